package io.cellgate.server.config;

/**
 * A configuration that cannot be used. The message has the shape {@code key: value (expected: ...)}
 * so an operator sees which key to fix.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    static ConfigException invalid(String key, Object value, String expected) {
        return new ConfigException(key + ": " + value + " (expected: " + expected + ")");
    }
}
