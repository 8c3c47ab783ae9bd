package io.cellgate.server.config;

import io.cellgate.limit.Priority;
import io.cellgate.route.RouteClass;
import io.cellgate.route.WriteFailover;
import java.time.Duration;

/**
 * One entry of the command table, as configured.
 *
 * @param cmd        the command word
 * @param method     full gRPC method name of the AO, {@code package.Service/Method}
 * @param route      how the target set is chosen
 * @param priority   P0..P3
 * @param timeout    the AO call's deadline (a client may ask for less)
 * @param rate       admitted requests per second through this gateway; 0 means unlimited
 * @param burst      the token bucket's capacity
 * @param failover   what a WRITE does when its write point is DOWN
 * @param group      the command group of the per-user rate limit
 * @param idempotent the gateway may retry it once on another set (READ only; never WRITE)
 * @param fleetRate  admitted requests per second across the fleet (0: none): each gateway admits an equal
 *                   share (one over the serving gateways); alone, all of it. With {@code rate} too, the lower
 *                   of the two holds
 */
public record CommandSpec(int cmd, String method, RouteClass route, Priority priority, Duration timeout,
                          double rate, int burst, WriteFailover failover, String group, boolean idempotent, double fleetRate) {

    /** The rate this gateway admits with {@code share} of the fleet's rate (0: no limit), and its burst. */
    public double effectiveRate(double share) {
        if (fleetRate <= 0) {
            return rate;
        }
        double mine = fleetRate * share;
        return rate > 0 ? Math.min(rate, mine) : mine;
    }

    /** The burst that goes with {@link #effectiveRate}: the configured one, or 100 ms of a share of the fleet's rate. */
    public int effectiveBurst(double share) {
        if (fleetRate <= 0 || (rate > 0 && rate <= fleetRate * share)) {
            return burst;
        }
        return (int) Math.max(1, Math.min(1_000_000, Math.ceil(fleetRate * share / 10)));
    }
}
