package io.cellgate.server.internal;

/**
 * A user event telling a connection the gateway is draining: send {@code go_away} with this reconnect
 * delay and the alternates, answer new requests {@code SHUTTING_DOWN}, let the calls in flight finish,
 * then close.
 *
 * @param reconnectAfterMillis this connection's share of the jittered reconnect window
 */
public record Drain(int reconnectAfterMillis) {
    /** How long a draining connection stays open after its go_away, at least, for requests already on the wire. */
    static final long GRACE_MILLIS = 200;
}
