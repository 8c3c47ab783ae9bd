package io.cellgate.client;

/**
 * A call the gateway did not answer. {@link #reason()} says why and whether the request may have
 * reached its AO: after {@link Reason#CONNECTION_LOST} or {@link Reason#TIMED_OUT} its outcome is
 * unknown (a write may have landed), so retry only what is safe to repeat.
 */
public final class CallFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a call was not answered. */
    public enum Reason {
        /** Not sent: the client is not logged in and its queue of calls waiting for a login is full. */
        NOT_CONNECTED,
        /** Sent, and the connection broke before the answer came: outcome unknown. */
        CONNECTION_LOST,
        /** No answer within the call's timeout: outcome unknown. */
        TIMED_OUT,
        /** The client was closed, or the gateway refused its login for good (the message says why). */
        CLOSED
    }

    private final Reason reason;

    public CallFailedException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
