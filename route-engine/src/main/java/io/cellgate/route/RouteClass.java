package io.cellgate.route;

/** How a command chooses its set. */
public enum RouteClass {
    /** The user's write-point set: the primary of the user's data shard. */
    WRITE,
    /** The nearest set that is UP: same IDC, then same city, then other cities. */
    READ,
    /** The designated central set. */
    CENTER
}
