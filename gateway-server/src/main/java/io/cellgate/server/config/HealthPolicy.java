package io.cellgate.server.config;

import java.time.Duration;

/**
 * Active health checks and set-level failover: every {@code interval} each AO endpoint gets a
 * {@code grpc.health.v1} check (answered within {@code timeout}); a set with at least
 * {@code setDownFraction} of its endpoints ejected or failing goes DOWN in this gateway (never in the
 * stored routes), and comes back UP after every endpoint has passed its checks for {@code recovery}.
 * Health never takes down the last UP set of a city, nor more than {@code maxDownShare} of its sets.
 * A set back UP by health gets the reads it would serve gradually, over {@code slowStart}: an AO
 * process that just started passes its checks long before it can take its whole share at once.
 */
public record HealthPolicy(boolean enabled, Duration interval, Duration timeout, double setDownFraction, Duration recovery,
                           double maxDownShare, Duration slowStart) {
}
