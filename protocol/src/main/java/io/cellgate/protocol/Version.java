package io.cellgate.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this build of cellgate, written into the jar by the build (version.properties). */
public final class Version {
    private static final String VERSION = read();

    private Version() {
    }

    /** E.g. {@code 0.1.0-SNAPSHOT}; {@code unknown} when the jar carries none (a build that skipped resources). */
    public static String get() {
        return VERSION;
    }

    private static String read() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
