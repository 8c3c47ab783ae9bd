package io.cellgate.limit;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Token buckets per key (a user, or a user and a command group) for millions of keys in fixed
 * memory: {@code capacity} slots of one {@code long} each (8 bytes a slot, allocated once). A slot
 * packs a 20-bit fingerprint of the key and the bucket's theoretical arrival time (GCRA, as in
 * {@link TokenBucket}) in microseconds modulo 2^44. A key probes 4 slots from its hash; a bucket that
 * is full again (idle for a whole burst) is indistinguishable from a fresh one, so such slots are
 * free to reuse: state expires by itself and needs no sweeper. When all 4 slots hold live buckets of
 * other keys, the key takes the one that will be full soonest (the most generous choice).
 *
 * <p>Thread-safe and lock-free: one CAS per admitted request, no allocation. Two keys with the same
 * slot and fingerprint (about 4 in 2^20 for a pair of keys sharing a slot group) share a bucket.
 */
public final class KeyedTokenBuckets {
    private static final int PROBES = 4;
    private static final int TIME_BITS = 44;
    private static final long TIME_MASK = (1L << TIME_BITS) - 1;

    private final NanoClock clock;
    private final long baseNanos;
    private final long intervalMicros;
    private final long toleranceMicros;
    private final AtomicLongArray slots;
    private final int mask;

    /**
     * @param ratePerSecond tokens per second per key, &gt; 0 and &lt;= 1e6
     * @param burst         capacity per key
     * @param capacity      slots, rounded up to a power of two; size it to about 2x the keys active
     *                      within one burst period
     */
    public KeyedTokenBuckets(double ratePerSecond, int burst, int capacity, NanoClock clock) {
        TokenBucket.validate(ratePerSecond, burst);
        if (ratePerSecond > 1e6) {
            throw new IllegalArgumentException("rate: " + ratePerSecond + " (expected: <= 1e6 per second per key)");
        }
        if (capacity < PROBES || capacity > (1 << 30)) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: 4..2^30)");
        }
        int size = Integer.highestOneBit(capacity - 1) << 1;
        this.clock = clock;
        this.baseNanos = clock.nanoTime();
        this.intervalMicros = Math.max(1L, Math.round(1e6 / ratePerSecond));
        this.toleranceMicros = (burst - 1) * intervalMicros;
        this.slots = new AtomicLongArray(size);
        this.mask = size - 1;
    }

    /** Takes one token from {@code key}'s bucket if one is available now. */
    public boolean tryAcquire(long key) {
        return tryAcquire(key, clock.nanoTime());
    }

    /** Takes one token from {@code key}'s bucket if one is available at {@code nowNanos} (this clock's). */
    public boolean tryAcquire(long key, long nowNanos) {
        long h = Hashing.fmix64(key);
        int fingerprint = (int) (h >>> 44) | 1; // never 0: 0 marks an empty slot
        int index = (int) h & mask;
        long now = ((nowNanos - baseNanos) / 1000) & TIME_MASK;
        while (true) {
            int victim = -1;
            long victimWait = Long.MAX_VALUE;
            for (int p = 0; p < PROBES; p++) {
                int i = (index + p) & mask;
                long value = slots.get(i);
                if (value != 0 && (int) (value >>> TIME_BITS) == fingerprint) {
                    long tat = value & TIME_MASK;
                    long earliest = tat - toleranceMicros;
                    if (wrapDiff(now, earliest) < 0) {
                        return false;
                    }
                    long next = (wrapDiff(now, tat) > 0 ? now : tat) + intervalMicros;
                    if (slots.compareAndSet(i, value, pack(fingerprint, next))) {
                        return true;
                    }
                    victim = -2; // raced with another thread on this key: retry the probe
                    break;
                }
                // How long until this slot's bucket is full again; <= 0 means it is free to take.
                long wait = value == 0 ? Long.MIN_VALUE : wrapDiff(value & TIME_MASK, now);
                if (wait < victimWait) {
                    victimWait = wait;
                    victim = i;
                }
            }
            if (victim == -2) {
                continue;
            }
            long old = slots.get(victim);
            if (slots.compareAndSet(victim, old, pack(fingerprint, now + intervalMicros))) {
                return true; // a fresh (full) bucket, one token taken
            }
        }
    }

    /** The number of slots (memory is 8 bytes per slot). */
    public int capacity() {
        return mask + 1;
    }

    private static long pack(int fingerprint, long time) {
        return ((long) fingerprint << TIME_BITS) | (time & TIME_MASK);
    }

    /** a - b on the 44-bit circle, as a signed value. */
    private static long wrapDiff(long a, long b) {
        return ((a - b) << (64 - TIME_BITS)) >> (64 - TIME_BITS);
    }
}
