package io.cellgate.limit;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Priority admission in the style of WeChat's DAGOR. Every request has an admission level
 * {@code priority x 128 + userLevel}: the command's priority (P0 = 0 is the most important) and the
 * user's priority, a hash of the uid and the hour (0..127), so under overload the least important
 * levels are refused first and all of one user's requests of one priority are admitted or refused
 * together (the user level changes every hour, so no user is always last). A request is admitted when
 * its level is below the threshold.
 *
 * <p>Once per window, {@link #adapt(double)} moves the threshold from the histogram of levels seen in
 * that window and the load level: overloaded (load &gt;= 1), it lowers the threshold so that about
 * {@code alpha} fewer requests would have been admitted, or a fraction {@code 1 / load} of them when
 * that is fewer; not overloaded (load &lt; {@code recover}), it
 * raises it so that about {@code beta} more would have been (ten times that when the load is under
 * half of {@code recover}, twice as many under a quarter of it, so a passing spike is not paid for
 * with a long recovery). P0 is guaranteed: the threshold never
 * falls below the P0 levels, so shedding by priority never refuses a P0 command. An operator can cap
 * the threshold by hand ({@link #degrade}).
 *
 * <p>Threading: {@link #admit} from any thread (one atomic increment, one volatile read, no
 * allocation); {@link #adapt} and {@link #degrade} from one control thread.
 */
public final class PriorityAdmission {
    /** User levels per priority. */
    public static final int USER_LEVELS = 128;
    /** All levels: 4 priorities x 128 user levels. */
    public static final int LEVELS = Priority.values().length * USER_LEVELS;

    private final double alpha;
    private final double beta;
    private final double recover;
    private final AtomicLongArray seen = new AtomicLongArray(LEVELS);
    private final long[] histogram = new long[LEVELS];
    private volatile int threshold = LEVELS;
    private volatile int operatorCap = LEVELS;

    /**
     * @param alpha   fraction of admitted requests to cut per overloaded window, e.g. 0.05
     * @param beta    fraction of admitted requests to add back per calm window, e.g. 0.01
     * @param recover load level under which the threshold rises again, e.g. 0.9 (hysteresis)
     */
    public PriorityAdmission(double alpha, double beta, double recover) {
        if (!(alpha > 0 && alpha < 1) || !(beta > 0 && beta < 1) || !(recover > 0 && recover <= 1)) {
            throw new IllegalArgumentException("alpha: " + alpha + ", beta: " + beta + ", recover: " + recover
                    + " (expected: alpha and beta in (0, 1), recover in (0, 1])");
        }
        this.alpha = alpha;
        this.beta = beta;
        this.recover = recover;
    }

    /** The user's level for {@code hour} (e.g. epoch millis / 3,600,000): 0 (first) .. 127 (last). */
    public static int userLevel(long uid, long hour) {
        return (int) (Hashing.fmix64(uid ^ (hour * 0x9E3779B97F4A7C15L)) & (USER_LEVELS - 1));
    }

    public static int level(Priority priority, int userLevel) {
        return priority.ordinal() * USER_LEVELS + userLevel;
    }

    /** Counts the request in this window's histogram and says whether its level is admitted now. */
    public boolean admit(int level) {
        seen.incrementAndGet(level);
        return level < effectiveThreshold();
    }

    /** Levels below this are admitted. */
    public int effectiveThreshold() {
        return Math.min(threshold, operatorCap);
    }

    /** The boundary priority: the least important priority that is (at least partly) admitted. */
    public Priority boundaryPriority() {
        return Priority.values()[(effectiveThreshold() - 1) / USER_LEVELS];
    }

    /**
     * Ends a window: moves the threshold from the levels seen and {@code loadLevel} (1.0 = at the
     * overload watermark), then starts a new window.
     */
    public void adapt(double loadLevel) {
        long total = 0;
        for (int l = 0; l < LEVELS; l++) {
            histogram[l] = seen.getAndSet(l, 0);
            total += histogram[l];
        }
        int current = threshold;
        long admitted = 0;
        for (int l = 0; l < current; l++) {
            admitted += histogram[l];
        }
        int next = current;
        if (loadLevel >= 1.0) {
            // Cut at least alpha; far over the watermark, cut in proportion (to admitted / load), so
            // a sudden overload is contained within a window or two instead of many.
            long target = (long) (admitted * Math.min(1 - alpha, 1 / loadLevel));
            long sum = 0;
            next = 0;
            while (next < current && sum + histogram[next] <= target) {
                sum += histogram[next];
                next++;
            }
            if (next == current && current > 0) {
                next = current - 1; // always make progress while overloaded
            }
        } else if (loadLevel < recover && current < LEVELS) {
            // Far below the watermark, recover faster: ten times under half of recover, and double the
            // admitted traffic under a quarter of it (a passing spike was cut, not a lasting overload).
            double step = loadLevel < recover / 4 ? 1 : loadLevel < recover / 2 ? Math.min(1, 10 * beta) : beta;
            long target = (long) Math.ceil(admitted * (1 + step));
            long sum = admitted;
            next = current;
            while (next < LEVELS && (sum < target || histogram[next] == 0) && sum + histogram[next] <= Math.max(target, sum)) {
                sum += histogram[next];
                next++;
            }
            if (next == current) {
                next = current + 1;
            }
            if (total == 0) {
                next = LEVELS; // nothing seen: nothing to protect
            }
        }
        threshold = Math.max(USER_LEVELS, Math.min(LEVELS, next));
    }

    /** An operator's cap: only priorities up to {@code lowestAdmitted} are admitted; null clears it. */
    public void degrade(Priority lowestAdmitted) {
        operatorCap = lowestAdmitted == null ? LEVELS : (lowestAdmitted.ordinal() + 1) * USER_LEVELS;
    }

    /** The operator's cap as a priority, or null when there is none. */
    public Priority degradeLevel() {
        int cap = operatorCap;
        return cap == LEVELS ? null : Priority.values()[cap / USER_LEVELS - 1];
    }
}
