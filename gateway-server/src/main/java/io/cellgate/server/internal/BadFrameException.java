package io.cellgate.server.internal;

/**
 * A client broke the wire protocol. Stackless: a hostile client can trigger it at will, and the
 * answer (a go_away with BAD_FRAME, then a close) needs no stack trace.
 */
final class BadFrameException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadFrameException(String message) {
        super(message, null, false, false);
    }
}
