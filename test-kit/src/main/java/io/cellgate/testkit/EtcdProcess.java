package io.cellgate.testkit;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real etcd server ({@code etcd} from Debian's etcd-server package) on loopback, with its own data
 * directory and free ports, for fleet tests. It can be stopped and started again on the same ports
 * and data, as an outage and a recovery.
 */
public final class EtcdProcess implements AutoCloseable {
    private final Path dataDir;
    private final Path log;
    private int clientPort;
    private int peerPort;
    /** Serves /health over plain HTTP whatever the client URLs speak. */
    private int metricsPort;
    /** The server certificate ({@code cert.pem}, {@code key.pem}) when clients must use TLS; null: plaintext. */
    private final Path tlsDir;
    private Process process;

    public EtcdProcess(Path dir) throws IOException, InterruptedException {
        this(dir, null);
    }

    /**
     * An etcd whose clients must speak TLS to it with the certificate {@code cert.pem} and key
     * {@code key.pem} of {@code tlsDir} (null: plaintext).
     */
    public EtcdProcess(Path dir, Path tlsDir) throws IOException, InterruptedException {
        this.dataDir = dir.resolve("etcd-data");
        this.log = dir.resolve("etcd.log");
        this.tlsDir = tlsDir;
        // A free port is free when asked, not when etcd binds it: a test running beside this one may take it
        // in between. The first start picks new ports when that happens (a restart keeps its URL).
        for (int attempt = 1; ; attempt++) {
            this.clientPort = freePort();
            this.peerPort = freePort();
            this.metricsPort = freePort();
            try {
                start();
                return;
            } catch (IOException e) {
                if (attempt == 5 || !String.valueOf(e.getMessage()).contains("address already in use")) {
                    throw e;
                }
                Files.deleteIfExists(log);
                // The data directory remembers the peer URL it was created with.
                try (var files = Files.walk(dataDir)) {
                    for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(f);
                    }
                }
            }
        }
    }

    /** The client URL, e.g. {@code http://127.0.0.1:40123} ({@code https://} with TLS). */
    public String url() {
        return (tlsDir == null ? "http" : "https") + "://127.0.0.1:" + clientPort;
    }

    /** Its Prometheus metrics, over plain HTTP. */
    public String metricsUrl() {
        return "http://127.0.0.1:" + metricsPort + "/metrics";
    }

    /** The process id of the running etcd. */
    public long pid() {
        return process.pid();
    }

    /** Starts etcd (again) and waits until it answers its health endpoint. */
    public void start() throws IOException, InterruptedException {
        String client = url();
        String peer = "http://127.0.0.1:" + peerPort;
        List<String> command = new java.util.ArrayList<>(List.of(binary(), "--name", "default", "--data-dir", dataDir.toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--listen-metrics-urls", "http://127.0.0.1:" + metricsPort,
                "--initial-cluster", "default=" + peer, "--log-level", "warn"));
        if (tlsDir != null) {
            command.addAll(List.of("--cert-file", tlsDir.resolve("cert.pem").toString(), "--key-file", tlsDir.resolve("key.pem").toString()));
        }
        process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("etcd exited with " + process.exitValue() + "; log:\n" + Files.readString(log));
            }
            if (healthy()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IOException("etcd did not become healthy within 30 s; log:\n" + Files.readString(log));
    }

    /** Stops etcd (SIGKILL: an outage, not a goodbye) and waits until it is gone. */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private boolean healthy() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + metricsPort + "/health").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(500);
            try {
                return c.getResponseCode() == 200 && new String(c.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).contains("\"true\"");
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    private static String binary() {
        return Peers.etcd().toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
