package io.cellgate.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Certificates made by openssl at test time (no key is committed). */
public final class TestCertificates {
    private TestCertificates() {
    }

    /**
     * A fresh self-signed EC certificate for {@code cn}, valid for 127.0.0.1, as {@code cert.pem} and
     * its PKCS#8 key {@code key.pem} in {@code dir} (created if needed). Self-signed, it is also the CA
     * that trusts it.
     */
    public static void selfSigned(Path dir, String cn) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Process p = new ProcessBuilder(Peers.openssl().toString(), "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.resolve("key.pem").toString(), "-out",
                dir.resolve("cert.pem").toString(), "-days", "1", "-subj", "/CN=" + cn, "-addext", "subjectAltName=IP:127.0.0.1")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("openssl req for " + cn + " failed: " + out);
        }
    }
}
