package io.cellgate.client;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.GoAway;
import io.cellgate.protocol.v1.ServerPush;
import java.net.InetSocketAddress;

/**
 * What a {@link CellgateClient} reports: its connection's life, pushes and each call's outcome, for
 * an application's logic, logs and metrics. Called on the client's event loop: return quickly and
 * never block (hand work to an executor of your own). Every method has an empty default.
 */
public interface ClientListener {
    /** Logged in on a connection to {@code gateway}. */
    default void loggedIn(InetSocketAddress gateway, String sessionId) {
    }

    /** The gateway refused a login; the client tries again after a delay unless {@code fatal}. */
    default void loginRefused(InetSocketAddress gateway, Code code, String message, boolean fatal) {
    }

    /** The gateway asked this connection to go away (drain, bad frame, replaced session, ...). */
    default void goAway(InetSocketAddress gateway, GoAway goAway) {
    }

    /** The connection closed or could not be opened; the client reconnects after {@code reconnectMillis}. */
    default void disconnected(InetSocketAddress gateway, String why, long reconnectMillis) {
    }

    /** A push from the service. When it asks for an acknowledgement, the client sends one after this returns. */
    default void push(ServerPush push) {
    }

    /** A call ended: answered with {@code code}, or failed ({@code code} null, {@code failure} its reason). */
    default void callEnded(int cmd, Code code, CallFailedException.Reason failure, long nanos) {
    }
}
