package io.cellgate.perf.harness;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The processes a scenario starts (Java mains on this classpath, nginx) and what the scenario reads
 * of them from {@code /proc}: CPU time, resident memory, open files.
 */
public final class Procs {
    /** bin/gatewayd's JVM options (GATEWAYD_JVM_OPTS in bin/common.sh), for the scenarios that start gatewayd as shipped. */
    static final List<String> GATEWAYD_JVM_OPTS = List.of("--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-XX:-UsePerfData", "-XX:G1ConcRefinementServiceIntervalMillis=2000");

    /** Clock ticks per second of {@code /proc/PID/stat} times (USER_HZ, 100 on Linux). */
    private static final double TICKS_PER_SECOND = 100.0;

    private Procs() {
    }

    /** Processes started here, ended when this JVM exits (an interrupted scenario leaves nothing running). */
    private static final List<Process> STARTED = new java.util.concurrent.CopyOnWriteArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> STARTED.forEach(Process::destroyForcibly), "procs-cleanup"));
    }

    /** Starts {@code main} of this classpath in its own JVM with {@code jvmArgs}, output appended to {@code log}. */
    public static Process java(Path log, List<String> jvmArgs, String main, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        STARTED.removeIf(started -> !started.isAlive());
        STARTED.add(p);
        return p;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Waits until something accepts connections on 127.0.0.1:{@code port}. */
    public static void awaitPort(int port, Process process, Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IOException("process exited with " + process.exitValue() + "; log:\n" + Files.readString(log));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IOException("nothing listens on port " + port + " after 60 s; log:\n" + Files.readString(log));
    }

    /** Waits until {@code log} has a line containing {@code text}; returns that line. */
    public static String awaitLine(Path log, String text, Process process) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    if (line.contains(text)) {
                        return line;
                    }
                }
            }
            if (process != null && !process.isAlive()) {
                throw new IOException("process exited with " + process.exitValue() + " before '" + text + "'; log:\n"
                        + Files.readString(log));
            }
            Thread.sleep(50);
        }
        throw new IOException("no '" + text + "' in " + log + " after 120 s");
    }

    /** CPU seconds (user + system) used so far by {@code pid} and, when {@code withChildren}, its child processes. */
    public static double cpuSeconds(long pid, boolean withChildren) {
        double total = cpuOf(pid);
        if (withChildren) {
            for (long child : children(pid)) {
                total += cpuOf(child);
            }
        }
        return total;
    }

    private static double cpuOf(long pid) {
        try {
            return cpuOfStat(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** User + system CPU seconds of a {@code /proc/.../stat} line. */
    private static double cpuOfStat(String stat) {
        // Fields after the command name (which may hold spaces) start after the last ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
    }

    /**
     * CPU seconds used so far by the JIT compiler threads (C1, C2) of the JVM {@code pid}. A thread
     * that ended takes its time out of this sum, so the JVM measured should keep its compiler
     * threads ({@code -XX:-UseDynamicNumberOfCompilerThreads}).
     */
    public static double compilerCpuSeconds(long pid) {
        double total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
                        total += cpuOfStat(stat);
                    }
                } catch (IOException | RuntimeException e) {
                    // The thread ended meanwhile.
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return total;
    }

    /** The processes whose parent is {@code pid}. */
    public static List<Long> children(long pid) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Long.parseLong(f[1]) == pid) {
                        out.add(Long.parseLong(p.getFileName().toString()));
                    }
                } catch (IOException | RuntimeException e) {
                    // The process ended meanwhile.
                }
            });
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** Resident set size of {@code pid} in bytes. */
    public static long rssBytes(long pid) {
        return statusKb(pid, "VmRSS:") * 1024;
    }

    private static long statusKb(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** The soft limit of open files of {@code pid}. */
    public static long openFileLimit(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"))) {
                if (line.startsWith("Max open files")) {
                    return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Files {@code pid} has open now. */
    public static long openFiles(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Runs {@code command}, returns its output (stdout and stderr), failing when it exits non-zero. */
    public static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    /** The jcmd of the running JDK. */
    public static String jcmd() {
        return Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    }

    /** Stops {@code p} (SIGTERM, then SIGKILL after 10 s). */
    public static void stop(Process p) throws InterruptedException {
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A short description of this machine for reports. */
    public static String machine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            // Not Linux: the core count still says something.
        }
        long memGb = 0;
        try {
            memGb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                    .findFirst().map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024 / 1024).orElse(0L);
        } catch (IOException e) {
            // As above.
        }
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + memGb + " GiB, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java " + System.getProperty("java.version");
    }
}
