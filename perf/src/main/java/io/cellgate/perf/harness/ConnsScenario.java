package io.cellgate.perf.harness;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * P3: idle long connections. A gatewayd process is filled with logged-in idle connections, level by
 * level (2k, 5k, 10k, then as many as its open-file limit leaves room for), from generator processes
 * over several loopback source addresses; at each level the scenario forces a full GC and reads the
 * gateway's live heap, its direct (NMT "Other") memory and resident set, and the kernel's socket
 * memory. A plain Netty server ({@link PlainNettyServer}) with the same JVM settings is filled the same
 * way: the difference is what cellgate keeps per connection. Ends with a projection to 1M connections.
 *
 * <p>{@code perf/run conns [--levels 2000,5000,10000,max] [--idle-seconds 20] [--out perf/results/conns-DATE.md]}
 */
public final class ConnsScenario {
    static final String SECRET = HopScenario.SECRET;
    /** Both servers' JVM options: bin/gatewayd's (GATEWAYD_JVM_OPTS in bin/common.sh), a fixed heap and native memory tracking. */
    static final List<String> JVM = java.util.stream.Stream.concat(java.util.stream.Stream.of("-Xms1g", "-Xmx1g", "-XX:NativeMemoryTracking=summary"),
            Procs.GATEWAYD_JVM_OPTS.stream()).toList();
    /** Files a server needs besides its client sockets (jars, epoll, pipes...), and some room. */
    static final int FD_MARGIN = 300;


    /** What one server held at one level: bytes, and the share of one core it used while the connections were idle. */
    record Level(String server, int connections, long heapUsed, long directUsed, long rss, long kernel, double idleCpu) {
    }

    private final List<String> levels;
    /** How long the idle server's CPU is measured at each level. */
    private final int idleSeconds;
    private final Path report;
    private final PrintStream out;
    private final Path dir;

    ConnsScenario(List<String> levels, int idleSeconds, Path report, PrintStream out) throws IOException {
        this.levels = levels;
        this.idleSeconds = idleSeconds;
        this.report = report;
        this.out = out;
        this.dir = Files.createTempDirectory("cellgate-conns");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.of("--levels", "2000,5000,10000,max", "--idle-seconds", "20",
                "--out", "perf/results/conns-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md"));
        new ConnsScenario(Arrays.asList(a.get("--levels").split(",")), Integer.parseInt(a.get("--idle-seconds")), Path.of(a.get("--out")),
                System.out).run();
    }

    List<Level> run() throws Exception {
        List<Level> results = new ArrayList<>();
        long fdLimit;
        // cellgate
        int port = Procs.freePort();
        Path config = dir.resolve("gateway.yaml");
        String yaml = io.cellgate.perf.DemoCluster.replaceOnce(HopScenario.gatewayYaml(port, Procs.freePort()), "accept-rate: 100000",
                "accept-rate: 100000\n  accept-burst: 20000");
        Files.writeString(config, io.cellgate.perf.DemoCluster.replaceOnce(yaml, "login-rate: 100000", "login-rate: 100000\n  login-burst: 20000"));
        Path log = dir.resolve("gatewayd.log");
        Process gateway = Procs.java(log, JVM, "io.cellgate.server.Gatewayd", "--config", config.toString());
        try {
            Procs.awaitLine(log, "gatewayd: listening on port", gateway);
            fdLimit = Procs.openFileLimit(gateway.pid());
            results.addAll(fill("cellgate", gateway, port, true));
        } finally {
            Procs.stop(gateway);
        }
        // plain Netty
        int plainPort = Procs.freePort();
        Path plainLog = dir.resolve("plain.log");
        Process plain = Procs.java(plainLog, JVM, "io.cellgate.perf.harness.PlainNettyServer", "--port", Integer.toString(plainPort));
        try {
            Procs.awaitLine(plainLog, "plain netty: listening on port", plain);
            results.addAll(fill("plain Netty", plain, plainPort, false));
        } finally {
            Procs.stop(plain);
        }
        writeReport(results, fdLimit);
        return results;
    }

    /** Fills {@code server} level by level; returns what it held at 0 and at each level. */
    private List<Level> fill(String name, Process server, int port, boolean login) throws Exception {
        List<Level> out = new ArrayList<>();
        List<Process> holders = new ArrayList<>();
        try {
            out.add(measure(name, server, 0));
            Map<String, Long> before = histogram(server.pid());
            int held = 0;
            for (String level : levels) {
                int target = level.equals("max")
                        ? (int) (Procs.openFileLimit(server.pid()) - Procs.openFiles(server.pid()) - FD_MARGIN) + held
                        : Integer.parseInt(level);
                if (target <= held) {
                    continue;
                }
                int add = target - held;
                int holder = holders.size();
                String source = "127.0.0." + (2 + holder);
                Path log = dir.resolve(name.replace(' ', '-') + "-holder-" + holder + ".log");
                Process p = Procs.java(log, List.of("-Xmx512m", "-XX:+UseSerialGC"), "io.cellgate.perf.harness.ConnectionHolder",
                        "--port", Integer.toString(port), "--count", Integer.toString(add), "--sources", source,
                        "--secret", login ? SECRET : "none", "--uid-base", Integer.toString(1 + held));
                holders.add(p);
                String line = Procs.awaitLine(log, "holder: holding", p);
                Matcher m = Pattern.compile("holding (\\d+) \\(failed (\\d+)\\)").matcher(line);
                if (!m.find()) {
                    throw new IOException("unexpected holder line: " + line);
                }
                held += Integer.parseInt(m.group(1));
                if (Integer.parseInt(m.group(2)) > 0) {
                    this.out.printf("%s: %s connections of %d failed at level %d%n", name, m.group(2), add, target);
                }
                Level l = measure(name, server, held);
                out.add(l);
                this.out.printf(Locale.ROOT, "%-12s %,6d connections: heap %,.1f MiB, direct %,.1f MiB, RSS %,.1f MiB, kernel %,.1f MiB, "
                        + "idle CPU %.2f%% of a core%n", name, held, l.heapUsed() / 1048576.0, l.directUsed() / 1048576.0,
                        l.rss() / 1048576.0, l.kernel() / 1048576.0, 100 * l.idleCpu());
            }
            if (held > 0) {
                recordGrowth(name, before, histogram(server.pid()), held);
            }
        } finally {
            for (Process p : holders) {
                p.getOutputStream().close();
            }
            for (Process p : holders) {
                Procs.stop(p);
            }
        }
        return out;
    }

    private Level measure(String name, Process server, int connections) throws Exception {
        String pid = Long.toString(server.pid());
        Thread.sleep(500);
        // Two full collections: what is left is what the connections hold, not garbage of their login.
        Procs.run(Procs.jcmd(), pid, "GC.run");
        Procs.run(Procs.jcmd(), pid, "GC.run");
        long heap = parseKb(Procs.run(Procs.jcmd(), pid, "GC.heap_info"), "used (\\d+)K") * 1024;
        long direct = parseKb(Procs.run(Procs.jcmd(), pid, "VM.native_memory", "summary"),
                "Other \\(reserved=\\d+KB, committed=(\\d+)KB\\)") * 1024;
        long rss = Procs.rssBytes(server.pid());
        long kernel = kernelSocketBytes();
        // Its CPU while nothing happens but what an idle gateway does by itself (timers, health checks, sweeps,
        // heartbeats answered): the clock ticks of user and system time over idleSeconds.
        double cpuBefore = Procs.cpuSeconds(server.pid(), false);
        long t0 = System.nanoTime();
        Thread.sleep(idleSeconds * 1000L);
        double idle = (Procs.cpuSeconds(server.pid(), false) - cpuBefore) / ((System.nanoTime() - t0) / 1e9);
        return new Level(name, connections, heap, direct, rss, kernel, idle);
    }

    private static long parseKb(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /**
     * The kernel memory of TCP sockets now: the slab objects of a socket (TCP, its inode, file and
     * epoll entry) plus the pages of socket buffers. Both ends of a loopback connection are counted.
     */
    static long kernelSocketBytes() {
        long total = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/slabinfo"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && List.of("TCP", "sock_inode_cache", "filp", "eventpoll_epi", "dentry").contains(f[0])) {
                    total += Long.parseLong(f[1]) * Long.parseLong(f[3]);
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/net/sockstat"))) {
                if (line.startsWith("TCP:")) {
                    Matcher m = Pattern.compile("mem (\\d+)").matcher(line);
                    if (m.find()) {
                        total += Long.parseLong(m.group(1)) * 4096;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return total;
    }

    private void writeReport(List<Level> results, long fdLimit) throws IOException {
        Path results0 = report.toAbsolutePath().getParent();
        String base = report.getFileName().toString().replaceFirst("\\.md$", "");
        Path data = results0.resolve(base);
        Files.createDirectories(data);
        StringBuilder md = new StringBuilder();
        md.append("# Connections: idle logged-in connections held by cellgate vs a plain Netty server, ").append(LocalDate.now(java.time.ZoneOffset.UTC))
                .append("\n\n");
        md.append("Machine: ").append(Procs.machine()).append(". Open-file limit of the server processes: ").append(fdLimit)
                .append(" (the hard limit on this machine; it cannot be raised here), so the largest level is that limit minus the ")
                .append("files a server needs besides its sockets and a margin of ").append(FD_MARGIN).append(".\n\n");
        md.append("Command: `perf/run conns").append(String.join(",", levels).equals("2000,5000,10000,max") ? ""
                : " --levels " + String.join(",", levels)).append("`\n\n");
        md.append("Both servers: 1 GiB heap, G1, native memory tracking on, gatewayd's JVM options (`GATEWAYD_JVM_OPTS` in `bin/common.sh`), 2 event loops, epoll. Generator processes (one per level ")
                .append("step, each from its own source address 127.0.0.2, .3, ...) open the connections at 4,000/s and log each in as ")
                .append("its own user (cellgate) or just connect (plain Netty), then hold them idle. At each level: two full GCs, ")
                .append("then the live heap (`jcmd GC.heap_info`), direct memory (NMT `Other`, where direct buffers live), RSS ")
                .append("(`/proc/PID/status`) and kernel socket memory (slab objects `TCP`, `sock_inode_cache`, `filp`, ")
                .append("`eventpoll_epi`, `dentry` plus TCP buffer pages from `/proc/net/sockstat`; both ends of each loopback ")
                .append("connection, and the whole machine's, so it is the noisiest figure); then the server's CPU (user + system, ")
                .append("`/proc/PID/stat`) over ").append(idleSeconds).append(" s while the connections are idle (each pings every 30 s; the gateway's health checks find no AO), ")
                .append("as a share of one core.\n\n");
        md.append("| server | connections | live heap | heap per connection | direct | RSS | RSS per connection | kernel per connection (both ends) "
                + "| idle CPU (% of a core) |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        Level cgMax = null;
        Level plainMax = null;
        for (Level l : results) {
            Level zero = results.stream().filter(z -> z.server().equals(l.server()) && z.connections() == 0).findFirst().orElse(l);
            int n = l.connections();
            md.append(String.format(Locale.ROOT, "| %s | %,d | %,.1f MiB | %s | %,.1f MiB | %,.1f MiB | %s | %s | %.2f%% |%n", l.server(), n,
                    l.heapUsed() / 1048576.0, perConn(l.heapUsed() - zero.heapUsed(), n), l.directUsed() / 1048576.0,
                    l.rss() / 1048576.0, perConn(l.rss() - zero.rss(), n), perConn(l.kernel() - zero.kernel(), n), 100 * l.idleCpu()));
            if (n > 0 && l.server().equals("cellgate") && (cgMax == null || n > cgMax.connections())) {
                cgMax = l;
            }
            if (n > 0 && !l.server().equals("cellgate") && (plainMax == null || n > plainMax.connections())) {
                plainMax = l;
            }
        }
        if (cgMax != null) {
            Level cg = cgMax;
            Level zero = results.stream().filter(z -> z.server().equals("cellgate") && z.connections() == 0).findFirst().orElseThrow();
            double heapPer = (double) (cg.heapUsed() - zero.heapUsed()) / cg.connections();
            double rssPer = (double) (cg.rss() - zero.rss()) / cg.connections();
            double kernelPer = (double) (cg.kernel() - zero.kernel()) / cg.connections();
            double plainPer = plainMax == null ? 0 : (double) (plainMax.heapUsed() - results.stream()
                    .filter(z -> !z.server().equals("cellgate") && z.connections() == 0).findFirst().orElseThrow().heapUsed())
                    / plainMax.connections();
            md.append("\n## Goals\n\n| id | goal | measured | verdict |\n|---|---|---|---|\n");
            md.append(String.format(Locale.ROOT, "| P3 | <= 2 KiB of JVM heap per idle logged-in connection | %,.0f bytes at %,d connections "
                            + "(plain Netty: %,.0f bytes) | %s |%n", heapPer, cg.connections(), plainPer,
                    heapPer <= 2048 ? "met" : String.format(Locale.ROOT, "missed by %,.0f bytes", heapPer - 2048)));
            Level tenK = results.stream().filter(l -> l.server().equals("cellgate") && l.connections() >= 10_000)
                    .min(java.util.Comparator.comparingInt(Level::connections)).orElse(null);
            if (tenK != null) {
                // Here the connections ping every 30 s and the gateway checks an AO that is not there; the idle
                // figure of the goal, with nothing but the gateway's own timers, is perf/run-idle-cpu.sh's.
                md.append(String.format(Locale.ROOT, "| 18 | idle CPU <= 0.3%% of a core with 10,000 idle connections | %.2f%% at %,d, "
                                + "answering %,d pings a second (30 s heartbeats) and checking an absent AO; without them: "
                                + "`perf/run-idle-cpu.sh` | see `idle-cpu-*.md` |%n",
                        100 * tenK.idleCpu(), tenK.connections(), tenK.connections() / 30));
                md.append(String.format(Locale.ROOT, "| 18 | <= 1,500 bytes of heap per idle connection | %,.0f bytes | %s |%n", heapPer,
                        heapPer <= 1500 ? "met" : String.format(Locale.ROOT, "missed by %,.0f bytes", heapPer - 1500)));
            }
            md.append(String.format(Locale.ROOT, "| P3 | projection: 1M connections in <= 2 GiB of heap | %.2f GiB | %s |%n",
                    heapPer * 1e6 / (1L << 30), heapPer * 1e6 <= 2.0 * (1L << 30) ? "met" : "missed"));
            md.append("\n## Projection to 1M connections\n\n");
            md.append(String.format(Locale.ROOT, "At the measured slope, 1,000,000 idle connections hold %.2f GiB of heap, %.2f GiB of "
                            + "resident memory in the gateway process (heap, metaspace, thread stacks and direct buffers together, "
                            + "so the heap's share counts once), and %.2f GiB of kernel memory on the gateway's side (half the both-ends "
                            + "figure). A host that holds them needs: an open-file limit above 1M (`LimitNOFILE` in the unit, `fs.nr_open`), "
                            + "clients from many source addresses (one address reaches one gateway port ~28k times with the default "
                            + "ephemeral range), `net.core.somaxconn` and the accept/login rates sized for the reconnect storm after a "
                            + "restart, and a heap of at least %.1f GiB plus headroom for the requests in flight.%n", heapPer * 1e6 / (1L << 30),
                    rssPer * 1e6 / (1L << 30), kernelPer / 2 * 1e6 / (1L << 30), heapPer * 1e6 / (1L << 30)));
        }
        SvgChart heap = new SvgChart("Live heap by idle connections", "connections", "MiB", false);
        SvgChart rss = new SvgChart("Resident memory by idle connections", "connections", "MiB", false);
        for (String server : List.of("cellgate", "plain Netty")) {
            List<Level> mine = results.stream().filter(l -> l.server().equals(server)).toList();
            double[] x = mine.stream().mapToDouble(Level::connections).toArray();
            heap.series(server, x, mine.stream().mapToDouble(l -> l.heapUsed() / 1048576.0).toArray());
            rss.series(server, x, mine.stream().mapToDouble(l -> l.rss() / 1048576.0).toArray());
        }
        Files.writeString(data.resolve("heap-by-connections.svg"), heap.render());
        Files.writeString(data.resolve("rss-by-connections.svg"), rss.render());
        md.append("\n![heap](").append(base).append("/heap-by-connections.svg)\n\n![rss](").append(base)
                .append("/rss-by-connections.svg)\n\n");
        StringBuilder json = new StringBuilder("[\n");
        for (Level l : results) {
            json.append(String.format(Locale.ROOT, "  {\"server\": \"%s\", \"connections\": %d, \"heap_used\": %d, \"direct\": %d, \"rss\": %d,"
                    + " \"kernel\": %d, \"idle_cpu\": %.5f},%n", l.server(), l.connections(), l.heapUsed(), l.directUsed(), l.rss(), l.kernel(),
                    l.idleCpu()));
        }
        json.setLength(json.length() - 2);
        json.append("\n]\n");
        Files.writeString(data.resolve("summary.json"), json.toString());
        md.append("## What each server keeps per connection\n\nLive bytes by class (`jcmd GC.class_histogram`), grown from no "
                + "connection to the top level, divided by the connections (every class with 8 bytes or more per connection):\n\n");
        heldPerConnection.forEach((server, table) -> md.append("### ").append(server).append("\n\n").append(table).append('\n'));
        Files.writeString(report, md.toString());
        out.println("report: " + report);
    }

    /** Classes whose live bytes grew most per connection between no connection and the top level, per server. */
    private final Map<String, String> heldPerConnection = new java.util.LinkedHashMap<>();

    private static Map<String, Long> histogram(long pid) throws Exception {
        Map<String, Long> bytes = new java.util.HashMap<>();
        Matcher m = Pattern.compile("^\\s*\\d+:\\s+\\d+\\s+(\\d+)\\s+(\\S+)", Pattern.MULTILINE)
                .matcher(Procs.run(Procs.jcmd(), Long.toString(pid), "GC.class_histogram"));
        while (m.find()) {
            bytes.merge(m.group(2), Long.parseLong(m.group(1)), Long::sum);
        }
        return bytes;
    }

    private void recordGrowth(String server, Map<String, Long> before, Map<String, Long> after, int connections) {
        StringBuilder md = new StringBuilder("| class | bytes per connection |\n|---|---|\n");
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                // Every class holding 8 bytes or more per connection: together they explain the heap figure.
                .filter(e -> e.getValue() >= 8L * connections)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> md.append(String.format(Locale.ROOT, "| `%s` | %,.0f |%n", e.getKey(), (double) e.getValue() / connections)));
        heldPerConnection.put(server, md.toString());
    }

    private static String perConn(long bytes, int n) {
        return n == 0 ? "-" : String.format(Locale.ROOT, "%,.0f B", (double) bytes / n);
    }
}
