package io.cellgate.server.config;

/**
 * What a login does to the user's other connections on this gateway ({@code sessions} in the config).
 * A login with the same non-empty {@code device_id} as one of the user's connections always replaces
 * it (the device reconnected; the old connection is dead or about to be). Past {@link #maxPerUser}
 * connections, {@link #whenFull} decides.
 *
 * @param maxPerUser connections one user may hold here at once (devices); 0: no limit
 * @param whenFull   at the limit: close the user's oldest connection, or refuse the new login
 */
public record SessionPolicy(int maxPerUser, WhenFull whenFull) {
    /** The default: up to 16 connections per user, the newest win. */
    public static final SessionPolicy DEFAULT = new SessionPolicy(16, WhenFull.KICK_OLD);

    /** At the per-user limit. */
    public enum WhenFull {
        /** The oldest connection gets go_away {@code SESSION_REPLACED}; the new login is accepted. */
        KICK_OLD,
        /** The new login is refused with {@code TOO_MANY_SESSIONS}; the old connections stay. */
        REJECT_NEW
    }
}
