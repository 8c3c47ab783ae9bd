package io.cellgate.route;

/** A route change or topology that cannot be applied; the message names the value and what was expected. */
public final class RouteException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public RouteException(String message) {
        super(message);
    }
}
