package io.cellgate.server.internal;

/**
 * What the gateway accepts in the client-chosen strings it keeps, logs and forwards to AOs as gRPC
 * metadata: a dye, and the login's device, device id and app version. Each is bounded in length and
 * drawn from a small ASCII set, so none can carry a line break, a NUL or anything else a header or a
 * log line cannot hold.
 */
final class ClientFields {
    /** Longest dye tag, in characters (ASCII, so bytes). */
    static final int MAX_DYE = 64;
    static final int MAX_DEVICE = 32;
    static final int MAX_DEVICE_ID = 128;
    static final int MAX_APP_VERSION = 32;

    private ClientFields() {
    }

    /** Null when {@code tag} is a valid dye (empty: none); otherwise why not. */
    static String dyeProblem(String tag) {
        return problem("dye", tag, MAX_DYE, "");
    }

    /** Null when the login's device, device id and app version are valid (each may be empty); otherwise why not. */
    static String loginProblem(String device, String deviceId, String appVersion) {
        String p = problem("device", device, MAX_DEVICE, "");
        if (p == null) {
            p = problem("device_id", deviceId, MAX_DEVICE_ID, "+/=");
        }
        if (p == null) {
            p = problem("app_version", appVersion, MAX_APP_VERSION, "+");
        }
        return p;
    }

    /** Letters, digits and {@code ._:-}, plus {@code extra}; at most {@code max} characters. */
    private static String problem(String name, String value, int max, String extra) {
        if (value.length() > max) {
            return name + ": " + value.length() + " characters (expected: at most " + max + ")";
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                    || c == ':' || c == '-' || extra.indexOf(c) >= 0;
            if (!ok) {
                return name + ": character " + String.format(java.util.Locale.ROOT, "U+%04X", (int) c) + " at " + i
                        + " (expected: only [A-Za-z0-9._:-" + extra + "])";
            }
        }
        return null;
    }

    /** The few distinct device kinds and app versions, shared by every session that names them. */
    private static final java.util.concurrent.ConcurrentHashMap<String, String> SHARED = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_SHARED = 4096;

    /**
     * One instance of {@code value} for every session that logs in with it (device kinds and app
     * versions take few values across millions of connections: each session would otherwise keep its
     * own copy); past 4,096 distinct values, {@code value} itself.
     */
    static String shared(String value) {
        String known = SHARED.get(value);
        if (known != null) {
            return known;
        }
        if (SHARED.size() >= MAX_SHARED) {
            return value;
        }
        known = SHARED.putIfAbsent(value, value);
        return known == null ? value : known;
    }
}
