package io.cellgate.server.internal;

import io.cellgate.limit.AdmissionControl;
import io.cellgate.limit.KeyedTokenBuckets;
import io.cellgate.limit.GcraRate;
import io.cellgate.limit.NanoClock;
import io.cellgate.limit.OverloadSignals;
import io.cellgate.limit.PriorityAdmission;
import io.cellgate.limit.RandomEarlyDrop;
import io.cellgate.limit.TokenBucket;
import io.cellgate.server.config.AdmissionConfig;

/**
 * The gateway's admission state built from {@link AdmissionConfig}: accept and login buckets, the
 * per-user buckets, and priority shedding with random drop. Immutable references; the buckets and
 * {@link AdmissionControl} are thread-safe. Replaced as a whole when limits change at run time.
 */
final class Admissions {
    final AdmissionConfig config;
    /** Null when unlimited. */
    private final TokenBucket accepts;
    private final TokenBucket logins;
    /** Each source prefix's share of the accept and login rates; null when unlimited or a source may use all. */
    private final KeyedTokenBuckets acceptsBySource;
    private final KeyedTokenBuckets loginsBySource;
    private final KeyedTokenBuckets users;
    final AdmissionControl control;
    /** Each connection's request rate, shared by the connections that log in under this configuration; null when unlimited. */
    private final GcraRate connectionRate;

    Admissions(AdmissionConfig config, OverloadSignals signals, NanoClock clock) {
        this.config = config;
        this.accepts = config.acceptRate() > 0 ? new TokenBucket(config.acceptRate(), config.acceptBurst(), clock) : null;
        this.logins = config.loginRate() > 0 ? new TokenBucket(config.loginRate(), config.loginBurst(), clock) : null;
        double share = config.fairness().share();
        this.acceptsBySource = share < 1 && config.acceptRate() > 0 ? new KeyedTokenBuckets(config.acceptRate() * share,
                (int) Math.max(1, config.acceptBurst() * share), SOURCE_SLOTS, clock) : null;
        this.loginsBySource = share < 1 && config.loginRate() > 0 ? new KeyedTokenBuckets(config.loginRate() * share,
                (int) Math.max(1, config.loginBurst() * share), SOURCE_SLOTS, clock) : null;
        this.connectionRate = config.connectionRate() > 0 ? new GcraRate(config.connectionRate(), config.connectionBurst()) : null;
        this.users = config.userRate() > 0 ? new KeyedTokenBuckets(config.userRate(), config.userBurst(), config.userSlots(), clock) : null;
        PriorityAdmission priority = new PriorityAdmission(config.alpha(), config.beta(), config.recover());
        priority.degrade(config.degrade());
        this.control = new AdmissionControl(priority, new RandomEarlyDrop(config.dropLow(), config.dropHigh()), signals,
                System::currentTimeMillis);
    }

    static OverloadSignals.Limits limits(AdmissionConfig c) {
        return new OverloadSignals.Limits(c.maxEventLoopLag().toNanos(), c.maxInFlight(), c.maxPendingOutbound(),
                c.maxHeapUsed(), c.maxDirectUsed());
    }

    /** Buckets per source prefix: fixed memory (8 bytes a slot); prefixes that share a slot share a budget. */
    private static final int SOURCE_SLOTS = 1 << 16;

    /** A new connection from {@code source}: within its prefix's share, then within the gateway's rate. */
    boolean acceptAllowed(java.net.InetAddress source) {
        return (acceptsBySource == null || source == null || acceptsBySource.tryAcquire(sourceKey(source)))
                && (accepts == null || accepts.tryAcquire());
    }

    /** A login from {@code source}: within its prefix's share, then within the gateway's rate. */
    boolean loginAllowed(java.net.InetAddress source) {
        return (loginsBySource == null || source == null || loginsBySource.tryAcquire(sourceKey(source)))
                && (logins == null || logins.tryAcquire());
    }

    private long sourceKey(java.net.InetAddress source) {
        return SourcePrefix.key(source, config.fairness().prefixV4(), config.fairness().prefixV6());
    }

    boolean userAllowed(long uid, long groupKey, long nowNanos) {
        return users == null || users.tryAcquire(uid * 0x9E3779B97F4A7C15L ^ groupKey, nowNanos);
    }

    /** A new connection's request rate, or null when connections are not limited. */
    GcraRate connectionRate() {
        return connectionRate;
    }
}
