package io.cellgate.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gatewayd process of this classpath, for tests of what only a process shows: signals, exit codes,
 * its output, open-file limits, restarts. Started with {@link #start}, its output appended to the
 * log (a restart continues the same log), ready once it printed a new
 * {@code gatewayd: listening on port ...} line; closing it stops it (SIGTERM, then SIGKILL).
 */
public final class GatewaydProcess implements AutoCloseable {
    /** The daemon's main class (on the caller's class path: the kit does not link the server). */
    private static final String GATEWAYD = "io.cellgate.server.Gatewayd";
    private static final String LISTENING = "gatewayd: listening on port ";
    private static final Pattern PORT = Pattern.compile("(\\w+) on port (\\d+)");

    private final Process process;
    private final Path log;
    private final String listening;

    private GatewaydProcess(Process process, Path log, int earlierStarts) throws IOException, InterruptedException {
        this.process = process;
        this.log = log;
        this.listening = awaitNth(LISTENING, earlierStarts + 1);
    }

    /** Starts gatewayd on {@code config}, its output in {@code log}; {@code fileLimit} > 0 sets its open-file limit. */
    public static GatewaydProcess start(Path config, Path log, int fileLimit, Map<String, String> env, String... jvmArgs)
            throws IOException, InterruptedException {
        return start(config, log, fileLimit, false, env, jvmArgs);
    }

    /**
     * Starts gatewayd as a process started under {@code nohup} is: with SIGHUP ignored, which the JVM
     * keeps (gatewayd says so at start).
     */
    public static GatewaydProcess startWithHupIgnored(Path config, Path log) throws IOException, InterruptedException {
        return start(config, log, 0, true, Map.of());
    }

    private static GatewaydProcess start(Path config, Path log, int fileLimit, boolean hupIgnored, Map<String, String> env,
                                         String... jvmArgs) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (hupIgnored) {
            command.addAll(List.of("bash", "-c", "trap '' HUP && exec \"$0\" \"$@\""));
        } else {
            if (fileLimit > 0) {
                command.addAll(List.of("bash", "-c", "ulimit -n " + fileLimit + " && exec \"$0\" \"$@\""));
            }
            // Signals at their defaults whatever the test runner inherited (a run under nohup ignores SIGHUP,
            // and a JVM started so keeps it ignored): the tests signal gatewayd as an operator would.
            command.addAll(List.of("env", "--default-signal=HUP,INT,TERM"));
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmArgs));
        command.addAll(List.of("--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                GATEWAYD, "--config", config.toString()));
        int earlierStarts = Files.exists(log) ? count(log, LISTENING) : 0;
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            return new GatewaydProcess(p, log, earlierStarts);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** Starts gatewayd on {@code config} with no more than that. */
    public static GatewaydProcess start(Path config, Path log) throws IOException, InterruptedException {
        return start(config, log, 0, Map.of());
    }

    /** The client port. */
    public int port() {
        return Integer.parseInt(listening.substring(listening.indexOf(LISTENING) + LISTENING.length()).split(",")[0].trim());
    }

    /** The port of {@code what} ("metrics", "admin") from the listening line; -1 when it is off. */
    public int port(String what) {
        Matcher m = PORT.matcher(listening);
        while (m.find()) {
            if (m.group(1).equals(what)) {
                return Integer.parseInt(m.group(2));
            }
        }
        return -1;
    }

    public Process process() {
        return process;
    }

    /** Everything in the log so far (earlier runs' output included). */
    public String output() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** Waits up to 60 s for a line of the log (earlier runs' included) that contains {@code text}; returns it. */
    public String awaitLine(String text) throws IOException, InterruptedException {
        return awaitNth(text, 1);
    }

    private static int count(Path log, String text) throws IOException {
        return (int) Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> l.contains(text)).count();
    }

    /** Waits up to 60 s for the {@code n}th line of the log that contains {@code text}; returns it. */
    private String awaitNth(String text, int n) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                int seen = 0;
                for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    if (line.contains(text) && ++seen == n) {
                        return line;
                    }
                }
            }
            if (!process.isAlive()) {
                throw new AssertionError("gatewayd exited with " + process.exitValue() + " before '" + text + "'; output:\n" + output());
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no line '" + text + "' from gatewayd after 60 s; output:\n" + output());
    }

    /** CPU seconds (user + system) the process has used. */
    public double cpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
