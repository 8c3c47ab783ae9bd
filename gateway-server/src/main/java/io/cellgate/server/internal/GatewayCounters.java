package io.cellgate.server.internal;

import java.util.concurrent.atomic.LongAdder;

/** Gateway-wide counters, cheap on the hot path (striped adders), read by reporters and tests. */
public final class GatewayCounters {
    final LongAdder inFlight = new LongAdder();
    final LongAdder acceptsRefused = new LongAdder();
    final LongAdder addressLimited = new LongAdder();
    final LongAdder acceptErrors = new LongAdder();
    final LongAdder slowReadersClosed = new LongAdder();
    final LongAdder loginsRefused = new LongAdder();
    final LongAdder loginsOk = new LongAdder();
    final LongAdder loginsFailed = new LongAdder();
    final LongAdder connectionsAccepted = new LongAdder();
    final LongAdder unknownCommands = new LongAdder();
    final LongAdder requestsBeforeLogin = new LongAdder();
    final LongAdder crossCity = new LongAdder();
    final LongAdder badFrames = new LongAdder();
    final LongAdder framesIn = new LongAdder();
    final LongAdder retries = new LongAdder();
    /** Reads their set's concurrency limit had no room for, served by the next nearest set of the same city. */
    final LongAdder readsSpilled = new LongAdder();
    /** Retryable calls answered with their failure: the retry budget spent, no other set, no time left or its limit full. */
    final LongAdder retriesRefused = new LongAdder();
    final LongAdder fencedWrites = new LongAdder();
    final LongAdder closesForced = new LongAdder();
    final LongAdder preLoginClosed = new LongAdder();
    final LongAdder dyesRefused = new LongAdder();
    final LongAdder dyesIgnored = new LongAdder();
    final LongAdder sessionsExpired = new LongAdder();
    final LongAdder sessionsRevoked = new LongAdder();
    final LongAdder loginsRevoked = new LongAdder();
    final LongAdder loginFieldsRefused = new LongAdder();
    final LongAdder sessionsReplaced = new LongAdder();
    final LongAdder loginsOverSessionLimit = new LongAdder();
    final LongAdder pushesSent = new LongAdder();
    final LongAdder pushesAcknowledged = new LongAdder();
    final LongAdder pushesNotAcknowledged = new LongAdder();
    final LongAdder pushesNotConnected = new LongAdder();
    /** Pushes a connection did not get, by {@link Pushes.Drop} ordinal. */
    final LongAdder[] pushDropped = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
    final LongAdder pushAcksUnknown = new LongAdder();

    /** Connections that gave way to a newer login of their user (same device, or past sessions.max-per-user). */
    public long sessionsReplaced() {
        return sessionsReplaced.sum();
    }

    /** Logins refused because the user held sessions.max-per-user connections (when-full: reject-new). */
    public long loginsOverSessionLimit() {
        return loginsOverSessionLimit.sum();
    }

    /**
     * Pushes by result, per connection ({@code not_connected}: per user): {@code sent} (written),
     * {@code acknowledged}, {@code not_acknowledged}, {@code not_connected}, {@code dropped_closing},
     * {@code dropped_slow_reader}, {@code dropped_rate}, {@code dropped_overload}.
     */
    public java.util.Map<String, Long> pushes() {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        out.put("sent", pushesSent.sum());
        out.put("acknowledged", pushesAcknowledged.sum());
        out.put("not_acknowledged", pushesNotAcknowledged.sum());
        out.put("not_connected", pushesNotConnected.sum());
        for (Pushes.Drop d : Pushes.Drop.values()) {
            out.put("dropped_" + d.name().toLowerCase(java.util.Locale.ROOT), pushDropped[d.ordinal()].sum());
        }
        return out;
    }

    /** PushAck frames for no push waiting on the connection (unknown, late or repeated). */
    public long pushAcksUnknown() {
        return pushAcksUnknown.sum();
    }

    public long inFlight() {
        return inFlight.sum();
    }

    public long acceptsRefused() {
        return acceptsRefused.sum();
    }

    /** Accepts that failed on the listening socket (e.g. out of file descriptors). */
    public long acceptErrors() {
        return acceptErrors.sum();
    }

    /** Connections refused because their address already held {@code max-connections-per-address}. */
    public long addressLimited() {
        return addressLimited.sum();
    }

    /** Connections closed because they let more than {@code max-outbound-bytes-per-connection} pile up unread. */
    public long slowReadersClosed() {
        return slowReadersClosed.sum();
    }

    public long loginsRefused() {
        return loginsRefused.sum();
    }

    public long loginsOk() {
        return loginsOk.sum();
    }

    public long loginsFailed() {
        return loginsFailed.sum();
    }

    public long connectionsAccepted() {
        return connectionsAccepted.sum();
    }

    public long unknownCommands() {
        return unknownCommands.sum();
    }

    public long requestsBeforeLogin() {
        return requestsBeforeLogin.sum();
    }

    public long crossCityRequests() {
        return crossCity.sum();
    }

    public long badFrames() {
        return badFrames.sum();
    }

    /** Connections the gateway closed after its last frame because the peer had not taken it within the close timeout. */
    public long closesForced() {
        return closesForced.sum();
    }

    /** Connections closed for sending more than {@code limits.pre-login-frames} frames before logging in. */
    public long preLoginClosed() {
        return preLoginClosed.sum();
    }

    /** Logins and requests refused for a dye that is too long or holds characters outside {@code [A-Za-z0-9._:-]}. */
    public long dyesRefused() {
        return dyesRefused.sum();
    }

    /** Sessions closed because their user was revoked. */
    public long sessionsRevoked() {
        return sessionsRevoked.sum();
    }

    /** Logins refused because the user is revoked. */
    public long loginsRevoked() {
        return loginsRevoked.sum();
    }

    /** Sessions sent go_away because their login token expired. */
    public long sessionsExpired() {
        return sessionsExpired.sum();
    }

    /** Client dyes (login or request) ignored because no dye rule lets that client choose its dye. */
    public long dyesIgnored() {
        return dyesIgnored.sum();
    }

    /** Logins refused for a device, device id or app version that is too long or malformed. */
    public long loginFieldsRefused() {
        return loginFieldsRefused.sum();
    }

    /** Writes an AO's fence refused: this gateway dispatched them under routes older than a city switch. */
    public long fencedWrites() {
        return fencedWrites.sum();
    }

    public long retries() {
        return retries.sum();
    }

    public long retriesRefused() {
        return retriesRefused.sum();
    }

    public long readsSpilled() {
        return readsSpilled.sum();
    }

    public long framesIn() {
        return framesIn.sum();
    }

}
