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
 */
public record CommandSpec(int cmd, String method, RouteClass route, Priority priority, Duration timeout,
                          double rate, int burst, WriteFailover failover, String group, boolean idempotent) {
}
