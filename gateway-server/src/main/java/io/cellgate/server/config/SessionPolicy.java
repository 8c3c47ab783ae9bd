package io.cellgate.server.config;

/**
 * What a login does to the user's other connections on this gateway ({@code sessions} in the config).
 * A login with the same non-empty {@code device_id} as one of the user's connections always replaces
 * it (the device reconnected; the old connection is dead or about to be). Past {@link #maxPerUser}
 * connections, {@link #whenFull} decides.
 *
 * @param maxPerUser connections one user may hold here at once (devices); 0: no limit
 * @param whenFull   at the limit: close the user's oldest connection, or refuse the new login
 * @param directory  the fleet's session directory ({@code sessions.directory}); null: pushes reach this
 *                   gateway's connections only
 */
public record SessionPolicy(int maxPerUser, WhenFull whenFull, Directory directory) {
    /** The default: up to 16 connections per user, the newest win, no directory. */
    public static final SessionPolicy DEFAULT = new SessionPolicy(16, WhenFull.KICK_OLD, null);

    /**
     * Where a fleet's gateways say which users they hold, so a push to any gateway reaches the user on
     * whichever gateway it is connected to.
     *
     * @param redisUri  the Redis server, e.g. {@code redis://10.0.0.9:6379}
     * @param prefix    the prefix of every key this fleet writes
     * @param ttl       how long a gateway's entries stay valid after its last heartbeat (it beats at a third)
     * @param advertise the push API address other gateways forward pushes to; null: the push listener's
     */
    public record Directory(String redisUri, String prefix, java.time.Duration ttl, String advertise) {
    }

    /** At the per-user limit. */
    public enum WhenFull {
        /** The oldest connection gets go_away {@code SESSION_REPLACED}; the new login is accepted. */
        KICK_OLD,
        /** The new login is refused with {@code TOO_MANY_SESSIONS}; the old connections stay. */
        REJECT_NEW
    }
}
