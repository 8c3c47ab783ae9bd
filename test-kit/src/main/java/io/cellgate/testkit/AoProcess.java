package io.cellgate.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link TestAo} in a process of its own, for load tests: the AO then neither shares the test JVM's
 * paranoid leak detection (a stack trace per buffer access, which would make the AO the bottleneck)
 * nor its JIT and heap. It stops when closed (its standard input closes; killed if it lingers).
 */
public final class AoProcess implements AutoCloseable {
    private final Process process;
    private final int port;

    /** Starts a test AO of {@code setName} on a free port and waits until it serves. */
    public AoProcess(String setName) throws IOException {
        process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), TestAo.class.getName(), setName))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String prefix = "test AO " + setName + " on port ";
        String line;
        while ((line = out.readLine()) != null && !line.startsWith(prefix)) {
            // class loading chatter, if any
        }
        if (line == null) {
            process.destroyForcibly();
            throw new IOException("the test AO process of " + setName + " ended before it served");
        }
        port = Integer.parseInt(line.substring(prefix.length()).trim());
    }

    /** {@code 127.0.0.1:port}. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.getOutputStream().close();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
