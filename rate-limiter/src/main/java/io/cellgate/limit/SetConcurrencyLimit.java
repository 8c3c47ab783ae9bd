package io.cellgate.limit;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * An adaptive limit on the calls in flight to one set (cell), learned from the latency of its calls:
 * a backend that does not protect itself gets no more concurrency than it can serve without a long
 * queue, so its latency and goodput hold when it is offered more than its capacity, and its trouble
 * stays its own (every set has its limit).
 *
 * <p>A gradient, as in Netflix concurrency-limits' Gradient2: every window, the average latency of
 * the window's successful calls (short) is compared with the set's unqueued latency (baseline). Over
 * {@code tolerance} times the baseline and more than {@value #MIN_QUEUE_NANOS} ns over it, calls
 * queue at the set: the limit is cut at once by the gradient {@code tolerance * baseline / short} (at
 * most by half), to no less than twice the calls in flight when the limit was not what held the set
 * back. At the limit with latency in tolerance, it grows: by half per window while the set shows no
 * queue at all (as TCP's slow start), else by a fifth of its square root. Calm (not queueing, the
 * limit not reached), it drifts back up toward the ceiling by a tenth per window. A window with calls the set refused for being full ({@code RESOURCE_EXHAUSTED})
 * or that ran past the gateway's own deadline cuts a limit in use by a tenth: the set pushed back. The
 * limit starts at {@code initial}, high by default: it knows nothing yet, and a burst to a fast set
 * must pass; the latency brings it down when the set queues.
 *
 * <p>Latency learned from calls that ended comes late when a set stops answering: an AO process that
 * just started (its code not yet compiled) and is handed a failed set's reads, or one that hangs,
 * answers nothing for a second while calls pile up to the limit, and they miss their deadlines. So
 * each call in flight is also counted by the instant it will have used half its time (in window-long
 * bins; a call whose half is over {@value #HORIZON} windows is not judged), and a window in
 * which the set finished fewer than half the calls that started while at least {@code min} calls
 * have been waiting past that instant is a stall: the limit is cut at once, to twice the calls the
 * set finished in that window (at most to half; never below {@code min}). Judged against each call's
 * own deadline, not a fixed age: a healthy burst that a cold gateway and AO work through in a few
 * hundred ms does not look like a stall to calls given seconds. Windows end on calls starting as well
 * as ending, so a set that answers nothing is still judged.
 *
 * <p>The baseline is what makes or breaks a gradient. A moving average of the latency itself creeps
 * up under sustained load (the queue the limit allows becomes the next baseline). Here it is the
 * lowest window latency of the last {@value #BASELINE_WINDOWS} windows. While the set is loaded every
 * window is queued, so every {@value #PROBE_EVERY} windows at the limit a probe holds P1-P3 to a
 * quarter of it for two windows (the first lets the set's queue drain, the second measures; P0 keeps
 * its limit); a set that became slower for good shows its new latency once the old one ages out.
 *
 * <p>Priorities share the limit unequally: P1 may fill 85% of it, P2 70%, P3 55%, counting every call
 * in flight; P0 has room of its own: twice the limit in P0 calls, whatever the others hold. At the
 * limit the lowest priorities are refused first, and P0 is refused only when P0 alone overloads the
 * set, even while a cut brings the limit below what the others hold in flight.
 *
 * <p>Heavy connections are refused first. A connection that holds fewer calls in flight than
 * {@code connectionShare} of the limit (a quarter by default, never less than {@value #MIN_PER_CONNECTION}
 * calls or the limit's minimum, whichever is lower) is light: its call may go past its priority's share
 * by that much again. A heavy connection's may not. So a client that pipelines hundreds of calls to a
 * set can fill its priority's share when nobody else needs the set, but the latency its own calls queue
 * for, and the cuts that follow, refuse it before anyone light: without the room, one such client filled
 * the limit, a cut brought the limit below what it held, and every other client of the set was refused
 * until its calls drained. With everyone light (phones, one call or a few at a time) every call has the
 * room, and the limit, learned from latency, finds its level the same way.
 *
 * <p>Threading: {@link #tryAcquire}, {@link #started} and {@link #release} are called on any event
 * loop, with an atomic add or two each and adders for the window's samples; the window is closed by
 * whichever start or release passes its end first (a CAS), under this object's monitor, which nobody
 * else contends.
 */
public final class SetConcurrencyLimit {
    /**
     * The share of the limit each priority may fill, P0 first. P1-P3 count every call in flight; P0
     * counts its own calls only, so the others' calls, however many a cut leaves in flight above the
     * new limit, never take P0's room.
     */
    private static final double[] SHARE = {2.0, 0.85, 0.70, 0.55};
    /** Windows over which the lowest unqueued latency is the baseline. */
    static final int BASELINE_WINDOWS = 100;
    /** Busy windows between probes. */
    static final int PROBE_EVERY = 30;
    /** Growth per window at the limit with latency in tolerance, in square roots of the limit. */
    private static final double SMOOTHING = 0.2;
    /** Latency within this factor of the baseline: the set shows no queue at all. */
    private static final double UNQUEUED = 1.25;
    /** Growth per window at the limit while the set shows no queue (as TCP's slow start). */
    private static final double SLOW_START = 1.5;
    /** Growth per window while calm (no queue, limit not reached). */
    private static final double CALM_GROWTH = 1.1;
    /**
     * Latency over the baseline below which a set is not queueing, whatever the ratio. For a set that
     * answers in 300 us, a few ms more is a pause somewhere (a GC, the host's other processes, the
     * gateway's own event loop) that the latency cannot tell from a queue, and not worth refusing work
     * for; 50 ms is a queue.
     */
    static final long MIN_QUEUE_NANOS = 50_000_000L;
    /** The fewest calls a connection's share allows (unless the limit's minimum is lower). */
    static final int MIN_PER_CONNECTION = 4;
    /** The cut when the set pushed back. */
    private static final double BACKOFF = 0.9;
    /** The deepest cut of one window: the gradient's floor, and the most a stall cuts. */
    private static final double MAX_CUT = 0.5;
    /** Window-long bins counting calls in flight by the instant they count as stalled (a power of two). */
    static final int BINS = 128;
    /**
     * Half a call's time must be at most this many windows for it to be judged (12.6 s timeouts and
     * under with the default 100 ms window): bins up to this far ahead and the {@code BINS - HORIZON - 1}
     * behind the current one are told apart. A call stalled longer than that counts in a future bin (a
     * stall seems shorter, never longer).
     */
    static final int HORIZON = BINS / 2 - 1;
    /** {@link #release} of a call in no bin: never {@link #started}, or not judged. */
    public static final long NOT_STARTED = Long.MIN_VALUE;

    /**
     * How a set's limit behaves.
     *
     * @param initial   the limit before any latency is known
     * @param min       the limit never goes below this (P0 calls always have room for this many)
     * @param max       the configured ceiling
     * @param tolerance how much latency may rise over its baseline before the limit falls (e.g. 2.0)
     * @param windowNanos how often the limit is recomputed (at least; a window also needs samples)
     * @param connectionShare a connection holding less than this share of the limit in flight is light (0-1; 0: none is)
     */
    public record Settings(int initial, int min, int max, double tolerance, long windowNanos, double connectionShare) {
        /** The default share of the limit under which a connection is light. */
        public static final double CONNECTION_SHARE = 0.25;

        public Settings(int initial, int min, int max, double tolerance, long windowNanos) {
            this(initial, min, max, tolerance, windowNanos, CONNECTION_SHARE);
        }

        public Settings {
            if (min < 1 || max < min || initial < min || initial > max) {
                throw new IllegalArgumentException("set limit: expected 1 <= min <= initial <= max, got min " + min
                        + ", initial " + initial + ", max " + max);
            }
            if (!(tolerance >= 1.0)) {
                throw new IllegalArgumentException("set limit tolerance: " + tolerance + " (expected: >= 1)");
            }
            if (windowNanos <= 0) {
                throw new IllegalArgumentException("set limit window: " + windowNanos + " ns (expected: > 0)");
            }
            if (!(connectionShare >= 0 && connectionShare <= 1)) {
                throw new IllegalArgumentException("set limit connection share: " + connectionShare + " (expected: 0 to 1)");
            }
        }
    }

    private final Settings settings;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** P0 calls in flight (also counted in {@link #inFlight}): what P0's own room is measured against. */
    private final AtomicInteger p0InFlight = new AtomicInteger();
    /** Per priority, the calls in flight at or above which that priority is refused. */
    private volatile int[] caps;
    /** The limit, rounded down, for readers off the window's monitor. */
    private volatile int published;
    /** Below this many calls in flight a connection is light: its share of the limit, at least a few. */
    private volatile int perConnection;
    /** The most calls in flight seen in the current window (racy max: a missed peak only delays growth). */
    private volatile int peakInFlight;

    private final LongAdder rttNanosSum = new LongAdder();
    private final LongAdder rttSamples = new LongAdder();
    private final LongAdder pushbacks = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder started = new LongAdder();
    /** Windows that judged the set stalled (written under this object's monitor, read by anyone). */
    private volatile long stalls;
    private final AtomicLong windowEndNanos;
    /** Calls in flight by the window-long bin of the instant they count as stalled, modulo {@link #BINS}. */
    private final AtomicIntegerArray inFlightByStallAt = new AtomicIntegerArray(BINS);
    private final long originNanos;

    /** Guarded by this: the exact limit, the baseline and what it is the minimum of, the probe's state. */
    private double limit;
    private double baselineNanos;
    /** Unqueued short latencies, by window number mod {@link #BASELINE_WINDOWS}; 0 = none that window. */
    private final double[] unqueued = new double[BASELINE_WINDOWS];
    private long windows;
    private int busyWindows;
    /** 0: none; 1: draining (caps lowered); 2: measuring. */
    private int probe;

    public SetConcurrencyLimit(Settings settings, long nowNanos) {
        this.settings = settings;
        this.limit = settings.initial();
        this.published = settings.initial();
        this.caps = caps(limit);
        this.perConnection = perConnection(limit);
        this.windowEndNanos = new AtomicLong(nowNanos + settings.windowNanos());
        this.originNanos = nowNanos;
    }

    /** A call of {@code priority} with no connection to count (no room past its priority's share). */
    public boolean tryAcquire(Priority priority) {
        return tryAcquire(priority, Integer.MAX_VALUE);
    }

    /**
     * A call of {@code priority} may start: true, and it is in flight until {@link #release}; false at the
     * limit. {@code connectionInFlight}: the calls its connection holds already; under its share of the
     * limit, the call has room past its priority's share (see the class comment).
     */
    public boolean tryAcquire(Priority priority, int connectionInFlight) {
        if (priority == Priority.P0) {
            if (p0InFlight.incrementAndGet() > caps[0]) {
                p0InFlight.decrementAndGet();
                refused.increment();
                return false;
            }
            int n = inFlight.incrementAndGet();
            if (n > peakInFlight) {
                peakInFlight = n;
            }
            return true;
        }
        int room = connectionInFlight < perConnection ? perConnection : 0;
        int n = inFlight.incrementAndGet();
        if (n > caps[priority.ordinal()] + room) {
            inFlight.decrementAndGet();
            refused.increment();
            return false;
        }
        if (n > peakInFlight) {
            peakInFlight = n;
        }
        return true;
    }

    /**
     * A call admitted by {@link #tryAcquire} was sent to the set at {@code nowNanos}, to be answered by
     * {@code deadlineNanos}. Returns the instant from which it counts as stalled while unanswered, or
     * {@link #NOT_STARTED} when its time is too long to be judged: give it to {@link #release}.
     */
    public long started(long nowNanos, long deadlineNanos) {
        started.increment();
        long half = Math.max(0, (deadlineNanos - nowNanos) / 2);
        long stallAt = NOT_STARTED;
        if (half <= HORIZON * settings.windowNanos()) {
            stallAt = nowNanos + half;
            inFlightByStallAt.incrementAndGet(bin(stallAt));
        }
        endWindowIfDue(nowNanos);
        return stallAt;
    }

    /**
     * A call of {@code priority} admitted by {@link #tryAcquire} ended, after {@code rttNanos}: {@code ok}
     * when it succeeded (its latency is a sample), {@code pushback} when the set refused it for being
     * full or it ran past the gateway's own deadline. {@code stallAtNanos}: what {@link #started}
     * returned for it, or {@link #NOT_STARTED}.
     */
    public void release(Priority priority, long rttNanos, boolean ok, boolean pushback, long nowNanos, long stallAtNanos) {
        if (priority == Priority.P0) {
            p0InFlight.decrementAndGet();
        }
        inFlight.decrementAndGet();
        if (stallAtNanos != NOT_STARTED) {
            inFlightByStallAt.decrementAndGet(bin(stallAtNanos));
        }
        if (ok) {
            rttNanosSum.add(rttNanos);
            rttSamples.increment();
        } else if (pushback) {
            pushbacks.increment();
        }
        endWindowIfDue(nowNanos);
    }

    private void endWindowIfDue(long nowNanos) {
        long end = windowEndNanos.get();
        if (nowNanos - end >= 0 && windowEndNanos.compareAndSet(end, nowNanos + settings.windowNanos())) {
            endWindow(nowNanos);
        }
    }

    private long binNumber(long nanos) {
        return Math.floorDiv(nanos - originNanos, settings.windowNanos());
    }

    private int bin(long nanos) {
        return (int) (binNumber(nanos) & (BINS - 1));
    }

    /**
     * Calls in flight that count as stalled at {@code nowNanos}: those of the whole bins that ended by
     * then, as far back as bins are told apart from future ones.
     */
    int stalledAt(long nowNanos) {
        long nowBin = binNumber(nowNanos);
        int n = 0;
        for (long b = nowBin - (BINS - HORIZON - 1); b < nowBin; b++) {
            n += inFlightByStallAt.get((int) (b & (BINS - 1)));
        }
        return n;
    }

    private synchronized void endWindow(long nowNanos) {
        long samples = rttSamples.sumThenReset();
        long sum = rttNanosSum.sumThenReset();
        long pushed = pushbacks.sumThenReset();
        long starts = started.sumThenReset();
        int peak = peakInFlight;
        peakInFlight = inFlight.get();
        double shortRtt = samples == 0 ? 0 : (double) sum / samples;
        int slot = (int) (windows++ % BASELINE_WINDOWS);
        // Every window's latency is a candidate: while the set is loaded they are all queued and the
        // probes' lower ones win; while it is not, they are its own latency.
        unqueued[slot] = shortRtt;
        baselineNanos = lowest(unqueued, baselineNanos);

        if (probe == 1) {
            probe = 2;
            return;
        }
        if (probe == 2) {
            probe = 0;
            caps = caps(limit);
            return;
        }
        boolean binding = peak >= limit / 2;
        boolean queueing = shortRtt > settings.tolerance() * baselineNanos && shortRtt - baselineNanos > MIN_QUEUE_NANOS;
        // The set finished fewer than half the calls that started while calls have waited in it for half
        // their time: it stalls (a cold or hung process), whatever the few calls that did end say.
        boolean stalled = samples < starts / 2.0 && stalledAt(nowNanos) >= settings.min();
        double next;
        if (stalled) {
            stalls++;
            // As much as it showed it can finish: twice this window's answers (at most half the limit).
            next = Math.min(limit * MAX_CUT, 2.0 * samples);
        } else if (pushed > 0 && binding) {
            next = limit * BACKOFF;
        } else if (samples == 0) {
            return;
        } else if (queueing) {
            // Calls queue at the set: cut at once, by how much the latency is over (at most half). A limit
            // that was not what held the set back is cut no lower than twice what was in flight.
            double gradient = Math.max(MAX_CUT, settings.tolerance() * baselineNanos / shortRtt);
            next = binding ? limit * gradient + Math.sqrt(limit) : Math.max(limit * gradient, 2.0 * peak);
        } else if (binding) {
            // At the limit with latency in tolerance: grow; fast while the set shows no queue at all.
            next = shortRtt <= UNQUEUED * baselineNanos ? limit * SLOW_START : limit + SMOOTHING * Math.sqrt(limit);
        } else if (limit < settings.max()) {
            // Calm: no queue worth the name, and the limit holds nothing back. Drift back toward the
            // ceiling, so cuts made in a passing storm do not refuse the next burst to a set that is fine.
            next = limit * CALM_GROWTH;
        } else {
            return;
        }
        // Never below half of what is in flight now: a lower limit drains nothing faster (calls leave at the
        // set's pace).
        limit = Math.max(Math.max(settings.min(), inFlight.get() / 2.0), Math.min(settings.max(), next));
        published = (int) limit;
        perConnection = perConnection(limit);
        if (binding && ++busyWindows >= PROBE_EVERY) {
            busyWindows = 0;
            probe = 1;
            // P0 keeps its room: a probe measures the set, it must not cost the calls that matter most.
            int[] probing = caps(Math.max(settings.min(), limit / 4));
            probing[0] = caps(limit)[0];
            caps = probing;
        } else {
            caps = caps(limit);
        }
    }

    /** The lowest non-zero value of {@code values}; {@code otherwise} when there is none. */
    private static double lowest(double[] values, double otherwise) {
        double min = 0;
        for (double v : values) {
            if (v > 0 && (min == 0 || v < min)) {
                min = v;
            }
        }
        return min == 0 ? otherwise : min;
    }

    private int perConnection(double exact) {
        if (settings.connectionShare() == 0) {
            return 0;
        }
        return Math.max(Math.min(MIN_PER_CONNECTION, settings.min()), (int) (exact * settings.connectionShare()));
    }

    private int[] caps(double exact) {
        int[] out = new int[SHARE.length];
        for (int p = 0; p < SHARE.length; p++) {
            out[p] = Math.max(p == 0 ? settings.min() : 1, (int) (exact * SHARE[p]));
        }
        return out;
    }

    /** The limit now (P2 may fill 70% of it with everyone's calls, P0 twice it with its own). */
    public int limit() {
        return published;
    }

    /** Under this many calls in flight a connection is light now (and this is its room past its priority's share). */
    public int perConnection() {
        return perConnection;
    }

    /** Calls refused at the limit since start. */
    public long refused() {
        return refused.sum();
    }

    /** Windows that judged the set stalled and cut its limit, since start. */
    public long stalls() {
        return stalls;
    }

    /** Calls in flight now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** The baseline latency learned so far, in nanoseconds (0 before the first sample). */
    public synchronized double baselineNanos() {
        return baselineNanos;
    }

    public Settings settings() {
        return settings;
    }
}
