package io.cellgate.limit;

/** The outcome of one admission decision. */
public enum Admission {
    /** Go ahead. */
    ADMIT,
    /** A token bucket (command, user or connection) had no token. */
    RATE_LIMITED,
    /** Refused by priority under overload. */
    SHED_PRIORITY,
    /** Dropped at random in the band between the drop watermarks. */
    DROPPED_RANDOM,
    /** The connection has its maximum of requests in flight. */
    OVER_CONNECTION_LIMIT
}
