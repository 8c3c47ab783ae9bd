package io.cellgate.server.internal;

import io.cellgate.protocol.v1.Code;
import java.util.List;

/**
 * A user event telling a connection to wind down: send {@code go_away} with this code, reason and
 * reconnect delay, answer new requests with the same code, let the calls in flight finish, then close.
 * The gateway's drain sends {@code SHUTTING_DOWN} and the alternates; a session whose token expired
 * gets {@code UNAUTHENTICATED} (log in again; the same gateway will do).
 *
 * @param reconnectAfterMillis this connection's share of the jittered reconnect window
 * @param code                 the go_away's code, and the answer to requests sent after it
 * @param reason               the go_away's reason
 * @param requestMessage       the message of those answers
 * @param withAlternates       whether the go_away names other gateways to reconnect to
 */
public record Drain(int reconnectAfterMillis, Code code, String reason, String requestMessage, boolean withAlternates) {
    /** How long a draining connection stays open after its go_away, at least, for requests already on the wire. */
    static final long GRACE_MILLIS = 200;

    /** The gateway is draining. */
    public Drain(int reconnectAfterMillis) {
        this(reconnectAfterMillis, Code.SHUTTING_DOWN, "draining", "the gateway is draining; reconnect elsewhere (see go_away)", true);
    }

    /** The session's token expired at {@code expirySeconds}. */
    static Drain tokenExpired(long expirySeconds) {
        return new Drain(0, Code.UNAUTHENTICATED, "token expired at " + expirySeconds + "; log in again",
                "the login token expired; log in again", false);
    }

    /** An operator kicked the connection ({@code conns kick}, {@code users kick}): reconnect, here or elsewhere. */
    static Drain kicked(int reconnectAfterMillis) {
        return kicked(reconnectAfterMillis, "kicked by an operator");
    }

    /** The connection was kicked ({@code reason}: by whom): reconnect, here or elsewhere. */
    static Drain kicked(int reconnectAfterMillis, String reason) {
        return new Drain(reconnectAfterMillis, Code.SHUTTING_DOWN, reason, "the connection was " + reason + "; reconnect (see go_away)", true);
    }

    /** A newer login of the same user took this connection's place: do not reconnect on your own. */
    static Drain replaced(String why) {
        return new Drain(0, Code.SESSION_REPLACED, why, "this connection was replaced by a newer login of the user", false);
    }

    List<String> alternates(GatewayContext context) {
        return withAlternates ? context.alternates() : List.of();
    }
}
