package io.cellgate.server.config;

import java.util.logging.Level;

/**
 * How gatewayd logs ({@code logging} in the config): one line per record on standard error.
 *
 * @param json  JSON lines for log shippers; false: text lines
 * @param level the lowest level written: error, warn, info (default), debug or trace
 */
public record LoggingConfig(boolean json, Level level) {
    public static final LoggingConfig DEFAULT = new LoggingConfig(false, Level.INFO);

    /** A level by its configuration name; null when it is not one. */
    static Level level(String name) {
        return switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "error" -> Level.SEVERE;
            case "warn", "warning" -> Level.WARNING;
            case "info" -> Level.INFO;
            case "debug" -> Level.FINE;
            case "trace" -> Level.FINEST;
            default -> null;
        };
    }
}
