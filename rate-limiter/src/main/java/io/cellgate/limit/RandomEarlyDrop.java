package io.cellgate.limit;

/**
 * The last line of defence: between two load watermarks, requests of the boundary priority (the
 * least important one still admitted) are dropped at random, with a probability that ramps linearly
 * from 0 at {@code low} to 1 at {@code high}. P0 is never dropped. Stateless and allocation-free.
 */
public final class RandomEarlyDrop {
    private final double low;
    private final double high;

    public RandomEarlyDrop(double low, double high) {
        if (!(low >= 0 && high > low)) {
            throw new IllegalArgumentException("drop watermarks: " + low + ".." + high + " (expected: 0 <= low < high)");
        }
        this.low = low;
        this.high = high;
    }

    /** The drop probability at {@code loadLevel}. */
    public double probability(double loadLevel) {
        if (loadLevel <= low) {
            return 0;
        }
        return loadLevel >= high ? 1 : (loadLevel - low) / (high - low);
    }

    /**
     * @param priority the request's priority
     * @param boundary the boundary priority of {@link PriorityAdmission}
     * @param random   a uniform random number in [0, 1)
     */
    public boolean drop(Priority priority, Priority boundary, double loadLevel, double random) {
        return priority != Priority.P0 && priority == boundary && random < probability(loadLevel);
    }
}
