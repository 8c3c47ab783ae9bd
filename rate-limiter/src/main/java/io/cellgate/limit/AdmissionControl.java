package io.cellgate.limit;

import java.util.function.LongSupplier;

/**
 * Overload protection for the whole gateway: priority admission ({@link PriorityAdmission}) and
 * random early drop ({@link RandomEarlyDrop}) driven by the load level of {@link OverloadSignals}.
 * Rate limits (per command, per user, per connection) are separate token buckets checked before it.
 *
 * <p>Threading: {@link #admit} from any thread, allocation-free; {@link #endWindow} from one control
 * thread once per window (the gateway schedules it; tests call it directly).
 */
public final class AdmissionControl {
    private final PriorityAdmission priority;
    private final RandomEarlyDrop drop;
    private final OverloadSignals signals;
    private final LongSupplier wallClockMillis;
    private volatile double loadLevel;
    private volatile long hour;

    public AdmissionControl(PriorityAdmission priority, RandomEarlyDrop drop, OverloadSignals signals, LongSupplier wallClockMillis) {
        this.priority = priority;
        this.drop = drop;
        this.signals = signals;
        this.wallClockMillis = wallClockMillis;
        this.hour = wallClockMillis.getAsLong() / 3_600_000L;
    }

    /**
     * Decides one request.
     *
     * @param random a uniform random number in [0, 1) (injected so tests are deterministic)
     * @return {@link Admission#ADMIT}, {@link Admission#SHED_PRIORITY} or {@link Admission#DROPPED_RANDOM}
     */
    public Admission admit(Priority commandPriority, long uid, double random) {
        int level = PriorityAdmission.level(commandPriority, PriorityAdmission.userLevel(uid, hour));
        if (!priority.admit(level)) {
            return Admission.SHED_PRIORITY;
        }
        if (drop.drop(commandPriority, priority.boundaryPriority(), loadLevel, random)) {
            return Admission.DROPPED_RANDOM;
        }
        return Admission.ADMIT;
    }

    /** Ends a window: reads the load level, adapts the priority threshold, moves to the current hour. */
    public void endWindow() {
        double level = signals.loadLevel();
        loadLevel = level;
        priority.adapt(level);
        hour = wallClockMillis.getAsLong() / 3_600_000L;
    }

    public double loadLevel() {
        return loadLevel;
    }

    public PriorityAdmission priority() {
        return priority;
    }

    public OverloadSignals signals() {
        return signals;
    }
}
