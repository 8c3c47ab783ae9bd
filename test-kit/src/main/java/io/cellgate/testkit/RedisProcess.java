package io.cellgate.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis server ({@code redis-server} from Debian's redis-server package) on loopback, in memory
 * only, on a free port. It can be stopped and started again on the same port, empty, as a restart.
 */
public final class RedisProcess implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/bin/redis-server");
    private final Path log;
    private final int port;
    private Process process;

    public RedisProcess(Path dir) throws IOException, InterruptedException {
        this.log = dir.resolve("redis.log");
        try (ServerSocket s = new ServerSocket(0)) {
            this.port = s.getLocalPort();
        }
        start();
    }

    /** {@code redis://127.0.0.1:PORT}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Starts Redis (again, empty) and waits until it answers PING. */
    public void start() throws IOException, InterruptedException {
        if (!Files.isExecutable(BINARY)) {
            throw new AssertionError(BINARY + " is missing: bin/test installs Debian's redis-server");
        }
        process = new ProcessBuilder(BINARY.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (answersPing()) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("redis-server exited: " + Files.readString(log));
            }
            Thread.sleep(20);
        }
        throw new AssertionError("redis-server did not answer within 20 s: " + Files.readString(log));
    }

    private boolean answersPing() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(1_000);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] reply = new byte[7];
            int n = s.getInputStream().read(reply);
            return n > 0 && new String(reply, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills Redis (SIGKILL: an outage, not a shutdown); its data is gone. */
    public void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            process = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
