package io.cellgate.limit;

/** A monotonic clock in nanoseconds, injected so limiters are tested without sleeping. */
@FunctionalInterface
public interface NanoClock {
    /** The system's monotonic clock. */
    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
