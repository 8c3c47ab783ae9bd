package io.cellgate.server.config;

import java.time.Duration;

/**
 * Active health checks and set-level failover: every {@code interval} each AO endpoint gets a
 * {@code grpc.health.v1} check (answered within {@code timeout}); a set with at least
 * {@code setDownFraction} of its endpoints ejected or failing goes DOWN, and comes back UP after every
 * endpoint has passed its checks for {@code recovery}.
 */
public record HealthPolicy(boolean enabled, Duration interval, Duration timeout, double setDownFraction, Duration recovery) {
}
