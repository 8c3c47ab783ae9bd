package io.cellgate.route;

/** A change was made against an epoch that is no longer current: someone else changed the routes first. */
public final class RouteConflictException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final long expected;
    private final long actual;

    public RouteConflictException(long expected, long actual) {
        super("route epoch is " + actual + ", not " + expected + " (expected: the epoch the change was made against;"
                + " read the routes again and retry)");
        this.expected = expected;
        this.actual = actual;
    }

    public long expected() {
        return expected;
    }

    public long actual() {
        return actual;
    }
}
