package io.cellgate.server.internal;

import io.cellgate.route.RouteTable;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a request reads to find its target: the route table and, for each of its sets (same index),
 * the AO endpoints. Immutable; published as a whole so the two always agree.
 */
final class RoutingSnapshot {
    /** What requests route by: the stored table with this gateway's health verdicts applied (same epoch). */
    final RouteTable table;
    /** The stored, shared table, as the route engine published it. */
    final RouteTable stored;
    /** Sets this gateway's health checks hold DOWN (UP in {@link #stored}, DOWN in {@link #table}). */
    final java.util.Set<String> healthDown;
    private final AoEndpoint[][] endpointsBySet;
    /** Per set, endpoints of particular services; null for a set without any. */
    private final Map<String, AoEndpoint[]>[] serviceEndpointsBySet;

    /** The table's epoch as the AOs get it in every call's metadata, made once per snapshot. */
    final String epochText;
    /** Per set (same index), its city's fence as metadata text; null where the city has none. */
    private final String[] fenceTextBySet;

    /** Per set (same index), its adaptive concurrency limit; null entries when limits are off. */
    private final io.cellgate.limit.SetConcurrencyLimit[] limitBySet;

    /** Per set (same index), when (System.nanoTime) its slow start ends; 0 for a set not in one. */
    private final long[] slowStartEndBySet;
    private final long slowStartNanos;

    RoutingSnapshot(RouteTable table, RouteTable stored, java.util.Set<String> healthDown, AoEndpoint[][] endpointsBySet,
                    Map<String, AoEndpoint[]>[] serviceEndpointsBySet, io.cellgate.limit.SetConcurrencyLimit[] limitBySet,
                    long[] slowStartEndBySet, long slowStartNanos) {
        this.limitBySet = limitBySet;
        this.slowStartEndBySet = slowStartEndBySet;
        this.slowStartNanos = slowStartNanos;
        this.table = table;
        this.stored = stored;
        this.healthDown = healthDown;
        this.endpointsBySet = endpointsBySet;
        this.serviceEndpointsBySet = serviceEndpointsBySet;
        this.epochText = Long.toString(table.epoch());
        this.fenceTextBySet = new String[table.sets().size()];
        for (int i = 0; i < fenceTextBySet.length; i++) {
            long fence = table.fenceEpoch(i);
            fenceTextBySet[i] = fence > 0 ? Long.toString(fence) : null;
        }
    }

    /**
     * Whether a read that would go to set {@code setIndex} goes elsewhere now because the set is in its
     * slow start: the share kept away falls from all to none over the slow start, drawn at random.
     */
    boolean slowStartSkips(int setIndex, long nowNanos) {
        long end = slowStartEndBySet[setIndex];
        if (end == 0) {
            return false;
        }
        long left = end - nowNanos;
        return left > 0 && ThreadLocalRandom.current().nextLong(slowStartNanos) < left;
    }

    /** Set {@code setIndex}'s fence as metadata text, or null when its city has none. */
    String fenceText(int setIndex) {
        return fenceTextBySet[setIndex];
    }

    /**
     * An endpoint of set {@code setIndex} serving {@code service} by the power of two choices: of two random endpoints, the
     * one with fewer calls in flight. Null when the set has no endpoint.
     */
    AoEndpoint pick(int setIndex, String service) {
        AoEndpoint[] endpoints = endpointsOf(setIndex, service);
        int n = endpoints.length;
        if (n <= 1) {
            return n == 0 ? null : endpoints[0];
        }
        long now = System.nanoTime();
        int healthy = 0;
        for (AoEndpoint e : endpoints) {
            if (!e.ejected(now)) {
                healthy++;
            }
        }
        // Panic: too few healthy endpoints to trust the signal; use every endpoint.
        boolean panic = healthy == 0 || healthy < n * endpoints[0].policy().panicThreshold();
        int candidates = panic ? n : healthy;
        if (candidates == 1) {
            return nth(endpoints, 0, panic, now);
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int a = random.nextInt(candidates);
        int b = random.nextInt(candidates - 1);
        if (b >= a) {
            b++;
        }
        AoEndpoint first = nth(endpoints, a, panic, now);
        AoEndpoint second = nth(endpoints, b, panic, now);
        return second.outstanding.get() < first.outstanding.get() ? second : first;
    }

    /** The {@code k}-th endpoint, counting only the healthy ones unless {@code all}. */
    private static AoEndpoint nth(AoEndpoint[] endpoints, int k, boolean all, long now) {
        for (AoEndpoint e : endpoints) {
            if (all || !e.ejected(now)) {
                if (k-- == 0) {
                    return e;
                }
            }
        }
        return endpoints[0];
    }

    /**
     * Whether every endpoint of set {@code setIndex} serving {@code service} is ejected now: a READ is
     * better served by another set than by the panic rule, which only makes sense when there is no other.
     */
    boolean allEjected(int setIndex, String service) {
        AoEndpoint[] endpoints = endpointsOf(setIndex, service);
        if (endpoints.length == 0) {
            return false;
        }
        long now = System.nanoTime();
        for (AoEndpoint e : endpoints) {
            if (!e.ejected(now)) {
                return false;
            }
        }
        return true;
    }

    /** The endpoints of set {@code setIndex} serving {@code service}: the service's own, else the set's. */
    private AoEndpoint[] endpointsOf(int setIndex, String service) {
        Map<String, AoEndpoint[]> byService = serviceEndpointsBySet[setIndex];
        return byService == null ? endpointsBySet[setIndex] : byService.getOrDefault(service, endpointsBySet[setIndex]);
    }

    /** Set {@code setIndex}'s concurrency limit; null when limits are off. */
    io.cellgate.limit.SetConcurrencyLimit limit(int setIndex) {
        return limitBySet[setIndex];
    }

    AoEndpoint[] endpoints(int setIndex) {
        return endpointsBySet[setIndex];
    }
}
