package io.cellgate.server.config;

import io.cellgate.limit.Priority;
import java.time.Duration;

/**
 * Admission control settings: gateway-wide rates, per-connection and per-user buckets, the overload
 * signals' limits, priority adaptation and random drop. A rate of 0 disables that bucket; a signal
 * limit of 0 disables that signal.
 *
 * @param acceptRate          new connections per second accepted by the gateway
 * @param acceptBurst         bucket capacity for accepts
 * @param loginRate           logins per second verified by the gateway
 * @param loginBurst          bucket capacity for logins
 * @param connectionRate      frames per second one connection may send
 * @param connectionBurst     bucket capacity per connection
 * @param userRate            requests per second per user per command group
 * @param userBurst           bucket capacity per user per command group
 * @param userSlots           memory of the per-user buckets, in 8-byte slots
 * @param window              priority adaptation window
 * @param alpha               fraction of admitted requests cut per overloaded window
 * @param beta                fraction added back per calm window
 * @param recover             load level below which admission recovers
 * @param dropLow             load level where random drop starts
 * @param dropHigh            load level where random drop reaches 100% of the boundary priority
 * @param maxEventLoopLag     event-loop lag that counts as load 1.0
 * @param maxInFlight         requests in flight (whole gateway) that count as load 1.0
 * @param maxPendingOutbound  bytes queued to clients that count as load 1.0
 * @param maxHeapUsed         heap use fraction that counts as load 1.0
 * @param maxDirectUsed       direct memory use fraction that counts as load 1.0
 * @param degrade             operator's cap: only priorities up to this are admitted; null = none
 * @param maxConnectionsPerAddress connections one client address (an IPv6 client: its source prefix) may hold at once;
 *                                 0 = no limit
 * @param fairness            how the accept and login budgets are shared among source prefixes
 */
public record AdmissionConfig(double acceptRate, int acceptBurst, double loginRate, int loginBurst,
                              double connectionRate, int connectionBurst, double userRate, int userBurst, int userSlots,
                              Duration window, double alpha, double beta, double recover, double dropLow, double dropHigh,
                              Duration maxEventLoopLag, long maxInFlight, long maxPendingOutbound, double maxHeapUsed,
                              double maxDirectUsed, Priority degrade, int maxConnectionsPerAddress, SourceFairness fairness) {

    /**
     * The accept and login rates shared fairly: one source prefix (the first {@code prefixV4} bits of an
     * IPv4 address, {@code prefixV6} of an IPv6 one) may spend at most {@code share} of each, so a storm
     * from one network leaves the rest for everyone else.
     *
     * @param share    the fraction of the accept and login rates (and bursts) one source prefix may use; 1 = no limit of its own
     * @param prefixV4 IPv4 prefix length a source is counted by
     * @param prefixV6 IPv6 prefix length a source is counted by (also what the per-address cap counts)
     */
    public record SourceFairness(double share, int prefixV4, int prefixV6) {
    }

    static AdmissionConfig parse(ConfigNode n) {
        n.allowOnly(java.util.Set.of("accept-rate", "accept-burst", "login-rate", "login-burst", "connection-rate",
                "connection-burst", "user-rate", "user-burst", "user-slots", "window", "alpha", "beta", "recover",
                "drop-low", "drop-high", "max-event-loop-lag", "max-in-flight", "max-pending-outbound-bytes",
                "max-heap-used", "max-direct-used", "degrade", "max-connections-per-address", "source-share", "source-prefix-v4",
                "source-prefix-v6"));
        double acceptRate = n.doubleValue("accept-rate", 5000, 0, 1e7);
        double loginRate = n.doubleValue("login-rate", 5000, 0, 1e7);
        double connectionRate = n.doubleValue("connection-rate", 2000, 0, 1e7);
        double userRate = n.doubleValue("user-rate", 0, 0, 1e6);
        double dropLow = n.doubleValue("drop-low", 1.5, 0, 100);
        double dropHigh = n.doubleValue("drop-high", 3.0, 0, 100);
        if (dropHigh <= dropLow) {
            throw ConfigException.invalid(n.key("drop-high"), dropHigh, "more than drop-low (" + dropLow + ")");
        }
        String degrade = n.string("degrade", "none");
        Priority cap = degrade.equalsIgnoreCase("none") ? null : n.enumValue("degrade", Priority.class, null);
        return new AdmissionConfig(
                acceptRate, n.intValue("accept-burst", (int) Math.max(1, acceptRate / 5), 1, 100_000_000),
                loginRate, n.intValue("login-burst", (int) Math.max(1, loginRate / 5), 1, 100_000_000),
                connectionRate, n.intValue("connection-burst", (int) Math.max(1, connectionRate), 1, 100_000_000),
                userRate, n.intValue("user-burst", (int) Math.max(1, userRate * 2), 1, 100_000_000),
                n.intValue("user-slots", 1 << 20, 4, 1 << 30),
                n.duration("window", Duration.ofMillis(500), Duration.ofMillis(10), Duration.ofMinutes(1)),
                n.doubleValue("alpha", 0.05, 0.001, 0.999), n.doubleValue("beta", 0.01, 0.001, 0.999),
                n.doubleValue("recover", 0.9, 0.01, 1.0), dropLow, dropHigh,
                n.duration("max-event-loop-lag", Duration.ofMillis(50), Duration.ZERO, Duration.ofMinutes(1)),
                n.longValue("max-in-flight", 0, 0, Long.MAX_VALUE),
                n.longValue("max-pending-outbound-bytes", 256L << 20, 0, Long.MAX_VALUE),
                n.doubleValue("max-heap-used", 0.9, 0, 1), n.doubleValue("max-direct-used", 0.9, 0, 1), cap,
                n.intValue("max-connections-per-address", 0, 0, 10_000_000),
                new SourceFairness(n.doubleValue("source-share", 0.25, 0.001, 1), n.intValue("source-prefix-v4", 24, 8, 32),
                        n.intValue("source-prefix-v6", 64, 16, 128)));
    }
}
