package io.cellgate.route;

import java.util.List;
import java.util.Objects;

/**
 * One set (cell): a complete AO deployment inside one IDC of one city. Immutable.
 *
 * @param name      unique name, e.g. {@code sz-a}
 * @param city      city it lives in, e.g. {@code shenzhen}
 * @param idc       IDC (availability zone) it lives in
 * @param state     operational state
 * @param weight    relative capacity, &gt; 0 (reserved for weighted read spreading)
 * @param endpoints AO endpoints as {@code host:port}, in configuration order
 */
public record CellSet(String name, String city, String idc, SetState state, int weight, List<String> endpoints) {
    public CellSet {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(city, "city");
        Objects.requireNonNull(idc, "idc");
        Objects.requireNonNull(state, "state");
        for (String[] named : new String[][] {{"name", name}, {"city", city}, {"idc", idc}}) {
            if (!RouteCodec.NAME.matcher(named[1]).matches()) {
                throw new RouteException("set " + name + " " + named[0] + ": " + named[1] + " (expected: 1-64 of A-Z a-z 0-9 . _ -)");
            }
        }
        if (weight <= 0) {
            throw new RouteException("set " + name + " weight: " + weight + " (expected: > 0)");
        }
        endpoints = List.copyOf(endpoints);
        for (String e : endpoints) {
            if (e.isEmpty() || e.indexOf(' ') >= 0 || e.indexOf(',') >= 0 || e.lastIndexOf(':') <= 0) {
                throw new RouteException("set " + name + " endpoint: " + e + " (expected: host:port)");
            }
        }
    }

    public CellSet withState(SetState newState) {
        return new CellSet(name, city, idc, newState, weight, endpoints);
    }

    public CellSet withEndpoints(List<String> newEndpoints) {
        return new CellSet(name, city, idc, state, weight, newEndpoints);
    }
}
