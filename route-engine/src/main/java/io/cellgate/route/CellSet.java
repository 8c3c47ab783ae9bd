package io.cellgate.route;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.Objects;

/**
 * One set (cell): a complete AO deployment inside one IDC of one city. Immutable.
 *
 * @param name      unique name, e.g. {@code sz-a}
 * @param city      city it lives in, e.g. {@code shenzhen}
 * @param idc       IDC (availability zone) it lives in
 * @param state     operational state
 * @param weight    relative capacity, &gt; 0 (reserved for weighted read spreading)
 * @param endpoints AO endpoints as {@code host:port}, in configuration order: every AO service of the set
 *                  unless {@code serviceEndpoints} names the service
 * @param serviceEndpoints endpoints of particular AO services ({@code package.Service}) of this set
 */
public record CellSet(String name, String city, String idc, SetState state, int weight, List<String> endpoints,
                      Map<String, List<String>> serviceEndpoints) {

    public CellSet(String name, String city, String idc, SetState state, int weight, List<String> endpoints) {
        this(name, city, idc, state, weight, endpoints, Map.of());
    }

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
        requireEndpoints(name, endpoints);
        Map<String, List<String>> copy = new TreeMap<>();
        for (Map.Entry<String, List<String>> e : serviceEndpoints.entrySet()) {
            if (!SERVICE.matcher(e.getKey()).matches()) {
                throw new RouteException("set " + name + " service: " + e.getKey() + " (expected: a gRPC service name such as pkg.Service)");
            }
            requireEndpoints(name, e.getValue());
            copy.put(e.getKey(), List.copyOf(e.getValue()));
        }
        serviceEndpoints = Collections.unmodifiableMap(copy);
    }

    private static final Pattern SERVICE = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]{0,199}");

    private static void requireEndpoints(String set, List<String> endpoints) {
        for (String e : endpoints) {
            String problem = Endpoint.problem(e);
            if (problem != null) {
                throw new RouteException("set " + set + " endpoint: " + e + " (" + problem + "; expected: host:port, "
                        + "a DNS name, IPv4 or [IPv6] address and a port 1-65535)");
            }
        }
    }

    /** The endpoints serving {@code service} ({@code package.Service}) in this set. */
    public List<String> endpointsOf(String service) {
        return serviceEndpoints.getOrDefault(service, endpoints);
    }

    public CellSet withState(SetState newState) {
        return new CellSet(name, city, idc, newState, weight, endpoints, serviceEndpoints);
    }

    public CellSet withEndpoints(List<String> newEndpoints) {
        return new CellSet(name, city, idc, state, weight, newEndpoints, serviceEndpoints);
    }

    /** This set with {@code service}'s endpoints replaced; an empty list makes it use the set's endpoints. */
    public CellSet withServiceEndpoints(String service, List<String> newEndpoints) {
        Map<String, List<String>> next = new TreeMap<>(serviceEndpoints);
        if (newEndpoints.isEmpty()) {
            next.remove(service);
        } else {
            next.put(service, newEndpoints);
        }
        return new CellSet(name, city, idc, state, weight, endpoints, next);
    }
}
