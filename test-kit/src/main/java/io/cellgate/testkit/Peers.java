package io.cellgate.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The real programs some tests run beside the gateway (etcd, nginx, promtool, openssl). A missing one
 * fails the test with the Debian package that brings it; {@code bin/test} installs them all. No test
 * skips for want of a peer.
 */
public final class Peers {
    private Peers() {
    }

    /** etcd, from Debian's {@code etcd-server}. */
    public static Path etcd() {
        return find("etcd", "etcd-server", "/usr/bin/etcd", "/usr/local/bin/etcd");
    }

    /** nginx with grpc_pass, from Debian's {@code nginx-light} (or {@code nginx}). */
    public static Path nginx() {
        return find("nginx", "nginx-light", "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx");
    }

    /** promtool, from Debian's {@code prometheus}. */
    public static Path promtool() {
        return find("promtool", "prometheus", "/usr/bin/promtool", "/usr/local/bin/promtool");
    }

    /** openssl, from Debian's {@code openssl}. */
    public static Path openssl() {
        return find("openssl", "openssl", "/usr/bin/openssl", "/usr/local/bin/openssl");
    }

    private static Path find(String program, String debianPackage, String... candidates) {
        for (String candidate : candidates) {
            Path p = Path.of(candidate);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError(program + " is not installed and this test runs it: install Debian's " + debianPackage
                + " package (apt-get install " + debianPackage + "), or run bin/test, which installs every test peer."
                + " Looked in " + List.of(candidates) + " and PATH.");
    }
}
