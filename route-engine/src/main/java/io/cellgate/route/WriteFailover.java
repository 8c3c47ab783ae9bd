package io.cellgate.route;

/** What a {@link RouteClass#WRITE} request does when its write-point set is DOWN. */
public enum WriteFailover {
    /** Refuse with {@link RouteTable#NO_ROUTE}: the data's primary is unreachable, so no write happens. */
    FAIL,
    /**
     * Move only the failed set's users, spread evenly over the UP sets of the same city by rendezvous
     * hashing of the slot; nobody else moves.
     */
    PEER
}
