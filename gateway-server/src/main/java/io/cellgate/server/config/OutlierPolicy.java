package io.cellgate.server.config;

import java.time.Duration;

/**
 * Passive health of AO endpoints: an endpoint whose calls fail {@code consecutiveFailures} times in
 * a row (gRPC UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) is ejected for
 * {@code baseEjection} times the number of its ejections so far, at most {@code maxEjection}. When
 * fewer than {@code panicThreshold} of a set's endpoints are healthy, the set uses all of them (a bad
 * signal cannot empty a set).
 */
public record OutlierPolicy(int consecutiveFailures, Duration baseEjection, Duration maxEjection, double panicThreshold) {
    public static final OutlierPolicy DEFAULT = new OutlierPolicy(5, Duration.ofSeconds(10), Duration.ofMinutes(5), 0.5);
}
