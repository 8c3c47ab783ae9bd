package io.cellgate.perf.harness;

import io.cellgate.perf.load.Scrape;
import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import io.cellgate.protocol.admin.v1.AdminGrpc;
import io.cellgate.protocol.admin.v1.ApplyRoutesRequest;
import io.cellgate.protocol.admin.v1.GetRoutesRequest;
import io.cellgate.protocol.admin.v1.RouteChangeMsg;
import io.cellgate.protocol.admin.v1.SetInfo;
import io.cellgate.protocol.admin.v1.SlotRange;
import io.cellgate.protocol.v1.Code;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A soak: gatewayd in its own process with two sets' AO processes behind it holds {@code --idle}
 * logged-in connections that ping at the heartbeat interval, carries {@code --rate} requests/s (reads
 * and writes) in back-to-back windows whose connections are new each window, while a churn loop keeps
 * logging clients in and out, the route table changes every {@code --route-interval}, and in the
 * middle set sz-a's AO process is killed and started again (set failover and recovery). After every
 * window it samples the gateway's heap (used, and after the window's collections), Netty's direct
 * memory, resident memory, open files, threads and the window's latency; at the start and the end it
 * measures the live heap after a full collection. Everything must stay flat, nothing may be lost.
 *
 * <p>{@code perf/run soak [--minutes 30] [--idle 10000] [--rate 5000] [--connections 100] [--window 60s]
 * [--route-interval 30s] [--failover-down 60s] [--churn 50] [--channel-mode lean] [--out FILE]}
 */
public final class SoakScenario {
    static final String SECRET = HopScenario.SECRET;
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Pattern GC_PAUSE = Pattern.compile("Pause .* (\\d+)M->(\\d+)M\\((\\d+)M\\)");
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    /**
     * The run's shape.
     *
     * @param duration      how long the measured part lasts
     * @param idle          idle logged-in connections held throughout (one holder process)
     * @param rate          requests per second of the windowed load (half reads, half writes)
     * @param connections   the load's connections, new in every window
     * @param window        one load window; a sample is taken at the end of each
     * @param routeInterval how often a range of 128 slots moves to the other set
     * @param failoverDown  how long sz-a's AO stays dead, from the middle of the run
     * @param churn         connections the churn loop opens, logs in, uses once and closes, per second
     * @param paranoid      run the gateway with paranoid leak detection (costly: for short runs)
     * @param report        where to write the report (null: none)
     */
    record Plan(Duration duration, int idle, double rate, int connections, Duration window, Duration routeInterval,
                Duration failoverDown, int churn, boolean paranoid, Path report) {
    }

    /** One window: the load it carried and the gateway's resources at its end. */
    record Sample(double endSeconds, long sent, long ok, long unanswered, double p50Ms, double p99Ms, double maxMs, long heapUsed,
                  long heapAfterGc, long direct, long rss, long fds, long threads, long connections, long routeEpoch) {
    }

    /** The gateway's footprint after a full collection, with no load running. */
    record Footprint(long liveHeap, long direct, long rss, long fds, long threads) {
    }

    /** What the soak saw. */
    record Outcome(List<Sample> samples, Footprint start, Footprint end, int idleHeld, int idleLost, long pongs,
                   long readsSent, long readsOk, long readsShed, long writesSent, long writesOk, long writesShed, long unanswered,
                   String otherCodes,
                   int routeChanges, int routeChangesFailed, long churned, long churnFailed, long leaks, boolean leakInLog,
                   long stallCuts, List<String> events) {
    }

    private final Plan plan;
    private String channelMode = "lean";
    private final PrintStream out;
    private final Path dir;
    private final List<String> events = new ArrayList<>();
    private long t0;
    private int port;

    SoakScenario(Plan plan, PrintStream out) throws IOException {
        this.plan = plan;
        this.out = out;
        this.dir = Files.createTempDirectory("cellgate-soak");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.of("--minutes", "30", "--idle", "10000", "--rate", "5000",
                "--connections", "100", "--window", "60s", "--route-interval", "30s", "--failover-down", "60s", "--churn", "50",
                "--channel-mode", "lean", "--out", "perf/results/soak-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md"));
        Plan plan = new Plan(Duration.ofSeconds((long) (Double.parseDouble(a.get("--minutes")) * 60)), Integer.parseInt(a.get("--idle")),
                Double.parseDouble(a.get("--rate")), Integer.parseInt(a.get("--connections")), seconds(a.get("--window")),
                seconds(a.get("--route-interval")), seconds(a.get("--failover-down")), Integer.parseInt(a.get("--churn")), false,
                Path.of(a.get("--out")));
        new SoakScenario(plan, System.out).channelMode(a.get("--channel-mode")).run();
    }

    /** The gateway's {@code upstream.channel-mode}. Returns this. */
    SoakScenario channelMode(String mode) {
        this.channelMode = mode;
        return this;
    }

    private static Duration seconds(String s) {
        return Duration.ofMillis((long) (Double.parseDouble(s.replaceAll("s$", "")) * 1000));
    }

    Outcome run() throws Exception {
        int[] aoPorts = {Procs.freePort(), Procs.freePort()};
        Path aoLog = dir.resolve("ao.log");
        List<Process> aos = new ArrayList<>(List.of(ao("sz-a", aoPorts[0], aoLog), ao("sz-b", aoPorts[1], aoLog)));
        Process gateway = null;
        Process holder = null;
        ManagedChannel adminChannel = null;
        ScheduledExecutorService background = Executors.newScheduledThreadPool(2);
        AtomicBoolean churning = new AtomicBoolean(true);
        Thread churnLoop = null;
        try {
            Procs.awaitPort(aoPorts[0], aos.get(0), aoLog);
            Procs.awaitPort(aoPorts[1], aos.get(1), aoLog);
            port = Procs.freePort();
            int metricsPort = Procs.freePort();
            int adminPort = Procs.freePort();
            Path tokenFile = dir.resolve("admin-token");
            Files.writeString(tokenFile, "soak-admin-token-0123456789abcdef");
            Files.writeString(dir.resolve("gateway.yaml"), gatewayYaml(port, metricsPort, adminPort, tokenFile, aoPorts, channelMode));
            Path log = dir.resolve("gatewayd.log");
            List<String> jvm = new ArrayList<>(List.of("-Xms512m", "-Xmx512m", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                    "-Xlog:gc:file=" + dir.resolve("gc.log")));
            if (plan.paranoid()) {
                jvm.add("-Dio.netty.leakDetection.level=paranoid");
            }
            gateway = Procs.java(log, jvm, "io.cellgate.server.Gatewayd", "--config", dir.resolve("gateway.yaml").toString());
            Procs.awaitLine(log, "gatewayd: listening on port", gateway);
            long pid = gateway.pid();
            adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort).usePlaintext().build();
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + Files.readString(tokenFile));
            AdminGrpc.AdminBlockingStub admin = AdminGrpc.newBlockingStub(adminChannel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));

            Path holderLog = dir.resolve("holder.log");
            holder = Procs.java(holderLog, List.of("-Xmx512m"), "io.cellgate.perf.harness.ConnectionHolder", "--port",
                    Integer.toString(port), "--count", Integer.toString(plan.idle()), "--sources", "127.0.0.10,127.0.0.11",
                    "--secret", SECRET, "--uid-base", "50000000", "--connect-rate", "2000");
            String holding = Procs.awaitLine(holderLog, "holder: holding", holder);
            out.println(holding);

            out.println("soak: warming up");
            // 10 s whatever the window: every JVM of the run (gateway, AOs, holder, this one) starts cold on few cores.
            new LoadGenerator(loadOptions(Duration.ofSeconds(10), plan.connections()))
                    .run(QUIET);
            Footprint start = footprint(pid, metricsPort);
            out.printf(Locale.ROOT, "soak: start: live heap %.1f MiB, direct %.1f MiB, rss %.1f MiB, %d files, %d threads%n",
                    start.liveHeap() / 1048576.0, start.direct() / 1048576.0, start.rss() / 1048576.0, start.fds(), start.threads());

            t0 = System.nanoTime();
            AtomicLong churned = new AtomicLong();
            AtomicLong churnFailed = new AtomicLong();
            churnLoop = new Thread(() -> churn(churning, churned, churnFailed), "soak-churn");
            churnLoop.setDaemon(true);
            churnLoop.start();
            int[] routeTries = new int[2];
            background.scheduleWithFixedDelay(() -> changeRoute(admin, routeTries), plan.routeInterval().toMillis(),
                    plan.routeInterval().toMillis(), TimeUnit.MILLISECONDS);
            background.schedule(() -> failover(admin, aos, aoPorts[0], aoLog), plan.duration().toMillis() / 2, TimeUnit.MILLISECONDS);

            List<Sample> samples = new ArrayList<>();
            long[] readCodes = new long[64];
            long[] writeCodes = new long[64];
            long unanswered = 0;
            long gcLinesSeen = 0;
            long end = t0 + plan.duration().toNanos();
            while (System.nanoTime() < end) {
                Duration left = Duration.ofNanos(end - System.nanoTime());
                Duration window = left.compareTo(plan.window()) < 0 ? left : plan.window();
                if (window.toMillis() < 500) {
                    break;
                }
                LoadGenerator.Result r = new LoadGenerator(loadOptions(window, plan.connections())).run(QUIET);
                add(readCodes, r.codesByCmd().get(2));
                add(writeCodes, r.codesByCmd().get(3));
                unanswered += r.unanswered();
                Scrape m = Scrape.of(metricsPort);
                List<Long> afterGc = new ArrayList<>();
                gcLinesSeen = gcAfterValues(dir.resolve("gc.log"), gcLinesSeen, afterGc);
                Sample s = new Sample(elapsed(), r.sent(), r.ok(), r.unanswered(), r.latencyMicros().getValueAtPercentile(50) / 1000.0,
                        r.latencyMicros().getValueAtPercentile(99) / 1000.0, r.latencyMicros().getMaxValue() / 1000.0,
                        (long) m.sum("jvm_memory_used_bytes", "area=\"heap\""),
                        afterGc.stream().mapToLong(Long::longValue).min().orElse(-1), (long) m.sum("cellgate_netty_direct_memory_bytes", ""),
                        Procs.rssBytes(pid), Procs.openFiles(pid), (long) m.sum("jvm_threads_current", ""),
                        (long) m.sum("cellgate_client_connections", ""), (long) m.sum("cellgate_route_epoch", ""));
                samples.add(s);
                out.printf(Locale.ROOT, "soak: %5.0f s: %,d sent, %,d OK, p99 %.2f ms; heap %.0f MiB (after GC %s), direct %.1f MiB, "
                                + "rss %.0f MiB, %d files, %d threads, %d connections, epoch %d%n", s.endSeconds(), s.sent(), s.ok(),
                        s.p99Ms(), s.heapUsed() / 1048576.0, s.heapAfterGc() < 0 ? "-" : s.heapAfterGc() / 1048576 + " MiB",
                        s.direct() / 1048576.0, s.rss() / 1048576.0, s.fds(), s.threads(), s.connections(), s.routeEpoch());
            }
            background.shutdown();
            background.awaitTermination(plan.failoverDown().toSeconds() + 120, TimeUnit.SECONDS);
            churning.set(false);
            churnLoop.join(60_000);

            holder.getOutputStream().write("status\n".getBytes(StandardCharsets.UTF_8));
            holder.getOutputStream().flush();
            Matcher h = Pattern.compile("held (\\d+) lost (\\d+) pongs (\\d+)")
                    .matcher(Procs.awaitLine(holderLog, "holder: held", holder));
            if (!h.find()) {
                throw new IOException("holder status unreadable: " + Files.readString(holderLog));
            }
            Footprint endPrint = footprint(pid, metricsPort);
            out.printf(Locale.ROOT, "soak: end: live heap %.1f MiB, direct %.1f MiB, rss %.1f MiB, %d files, %d threads%n",
                    endPrint.liveHeap() / 1048576.0, endPrint.direct() / 1048576.0, endPrint.rss() / 1048576.0, endPrint.fds(),
                    endPrint.threads());
            Scrape m = Scrape.of(metricsPort);
            String gatewayLog = Files.readString(log);
            long readsOk = readCodes[Code.OK_VALUE];
            long writesOk = writeCodes[Code.OK_VALUE];
            List<String> eventsCopy;
            synchronized (events) {
                eventsCopy = List.copyOf(events);
            }
            Outcome o = new Outcome(samples, start, endPrint, Integer.parseInt(h.group(1)), Integer.parseInt(h.group(2)),
                    Long.parseLong(h.group(3)), sum(readCodes), readsOk, shed(readCodes), sum(writeCodes), writesOk, shed(writeCodes),
                    unanswered,
                    otherCodes(readCodes, writeCodes), routeTries[0], routeTries[1], churned.get(), churnFailed.get(),
                    (long) m.sum("cellgate_buffer_leaks_total", ""), gatewayLog.contains("LEAK:"),
                    (long) m.sum("cellgate_set_limit_stalls_total", ""), eventsCopy);
            out.printf(Locale.ROOT, "soak: reads %,d of %,d OK, writes %,d of %,d OK, unanswered %d, other answers: %s; idle held %,d"
                            + " (lost %d, %,d pongs); %d route changes (%d failed); churn %,d connections (%d failed); leaks %d%n",
                    o.readsOk(), o.readsSent(), o.writesOk(), o.writesSent(), o.unanswered(), o.otherCodes(), o.idleHeld(),
                    o.idleLost(), o.pongs(), o.routeChanges(), o.routeChangesFailed(), o.churned(), o.churnFailed(), o.leaks());
            if (plan.report() != null) {
                writeReport(o);
            }
            return o;
        } finally {
            background.shutdownNow();
            churning.set(false);
            if (holder != null) {
                holder.getOutputStream().close();
            }
            Procs.stop(holder);
            if (adminChannel != null) {
                adminChannel.shutdownNow();
            }
            Procs.stop(gateway);
            for (Process p : aos) {
                Procs.stop(p);
            }
        }
    }

    private static Process ao(String set, int port, Path log) throws IOException {
        return Procs.java(log, List.of("-Xmx256m"), "io.cellgate.perf.ao.SampleAoServer", "--set", set, "--port", Integer.toString(port));
    }

    /** Two sets in the gateway's city; writes of a DOWN set go to its peer; health checks every 200 ms. */
    static String gatewayYaml(int port, int metricsPort, int adminPort, Path tokenFile, int[] aoPorts, String channelMode) {
        return """
                gateway: {city: sz, idc: sz-1}
                listen: {client: 127.0.0.1:%d, metrics: 127.0.0.1:%d}
                login: {token-secret: %s, timeout: 10s, heartbeat-interval: 30s}
                topology:
                  sets:
                    - {name: sz-a, city: sz, idc: sz-1, endpoints: ["127.0.0.1:%d"]}
                    - {name: sz-b, city: sz, idc: sz-2, endpoints: ["127.0.0.1:%d"]}
                routes:
                  write-failover: PEER
                  write-points: [{slots: 0-8191, set: sz-a}, {slots: 8192-16383, set: sz-b}]
                commands:
                  - {cmd: 2, method: cellgate.sample.v1.SampleAo/Get, route: READ, priority: P1, timeout: 2s}
                  - {cmd: 3, method: cellgate.sample.v1.SampleAo/Put, route: WRITE, priority: P1, timeout: 2s}
                upstream:
                  channel-mode: %s
                  health: {interval: 200ms, timeout: 500ms, recovery: 2s}
                admission: {accept-rate: 100000, login-rate: 100000, connection-rate: 0}
                admin: {listen: 127.0.0.1:%d, token-file: %s}
                """.formatted(port, metricsPort, SECRET, aoPorts[0], aoPorts[1], channelMode, adminPort, tokenFile);
    }

    private LoadGenerator.Options loadOptions(Duration duration, int connections) {
        return new LoadGenerator.Options("127.0.0.1", port, List.of("127.0.0.1"), connections, plan.rate(), duration,
                SECRET.getBytes(StandardCharsets.UTF_8), 1_000_000, List.of(new CommandMix(2, CommandMix.Kind.GET, false, 0.5),
                new CommandMix(3, CommandMix.Kind.PUT, true, 0.5)), 64, 1);
    }

    /** Clients that come and go: each second {@code churn} connect, log in, send one read and close. */
    private void churn(AtomicBoolean churning, AtomicLong churned, AtomicLong failed) {
        long uid = 80_000_000;
        while (churning.get()) {
            long began = System.nanoTime();
            try {
                LoadGenerator.Result r = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", port, List.of("127.0.0.2"), plan.churn(),
                        plan.churn(), Duration.ofSeconds(1), SECRET.getBytes(StandardCharsets.UTF_8), uid,
                        List.of(new CommandMix(2, CommandMix.Kind.GET, false, 1)), 16, 1)).run(QUIET);
                churned.addAndGet(plan.churn());
                failed.addAndGet(r.loginFailures() + r.unanswered());
                if (r.loginFailures() + r.unanswered() > 0) {
                    event(String.format(Locale.ROOT, "%.0f s: churn round: %d logins failed, %d requests unanswered of %d sent",
                            elapsed(), r.loginFailures(), r.unanswered(), r.sent()));
                }
                uid += plan.churn();
                if (uid > 80_000_000 + 1_000_000) {
                    uid = 80_000_000;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                failed.addAndGet(plan.churn());
                event("churn round failed: " + e);
            }
            long spent = System.nanoTime() - began;
            if (spent < 1_000_000_000L) {
                try {
                    Thread.sleep((1_000_000_000L - spent) / 1_000_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private final boolean[] moved = new boolean[128];
    private int nextRange;

    /** Moves the next range of 128 slots to the set that does not hold it, through the admin API. */
    private void changeRoute(AdminGrpc.AdminBlockingStub admin, int[] tries) {
        int range = nextRange;
        nextRange = (nextRange + 37) % moved.length;
        int from = range * 128;
        boolean firstHalf = from < 8192;
        String target = firstHalf != moved[range] ? "sz-b" : "sz-a";
        tries[0]++;
        try {
            admin.withDeadlineAfter(10, TimeUnit.SECONDS).applyRoutes(ApplyRoutesRequest.newBuilder().addChanges(RouteChangeMsg.newBuilder()
                    .setMoveSlots(SlotRange.newBuilder().setFrom(from).setTo(from + 127).setSet(target))).build());
            moved[range] = !moved[range];
        } catch (RuntimeException e) {
            tries[1]++;
            event("route change failed: " + e.getMessage());
        }
    }

    /** Kills sz-a's AO, waits for DOWN, keeps it dead for a while, starts it again and waits for UP. */
    private void failover(AdminGrpc.AdminBlockingStub admin, List<Process> aos, int port, Path aoLog) {
        try {
            long killed = System.nanoTime();
            aos.get(0).destroyForcibly();
            event(String.format(Locale.ROOT, "%.0f s: sz-a's AO killed (SIGKILL)", elapsed()));
            awaitState(admin, "DOWN", killed, "DOWN");
            Thread.sleep(plan.failoverDown().toMillis());
            long restarted = System.nanoTime();
            aos.set(0, ao("sz-a", port, aoLog));
            event(String.format(Locale.ROOT, "%.0f s: sz-a's AO started again", elapsed()));
            awaitState(admin, "UP", restarted, "UP again");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            event("failover failed: " + e);
        }
    }

    private void awaitState(AdminGrpc.AdminBlockingStub admin, String state, long since, String what) throws InterruptedException {
        long deadline = since + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (SetInfo s : admin.withDeadlineAfter(5, TimeUnit.SECONDS).getRoutes(GetRoutesRequest.getDefaultInstance()).getSetsList()) {
                // As requests see it: a set this gateway's health holds DOWN is DOWN whatever is stored.
                String seen = "DOWN".equals(s.getHealth()) ? "DOWN" : s.getState();
                if (s.getName().equals("sz-a") && seen.equals(state)) {
                    event(String.format(Locale.ROOT, "%.0f s: sz-a %s after %d ms", elapsed(), what,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since)));
                    return;
                }
            }
            Thread.sleep(20);
        }
        event("sz-a not " + state + " after 60 s");
    }

    private void event(String text) {
        synchronized (events) {
            events.add(text);
        }
        out.println("soak: " + text);
    }

    private double elapsed() {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** A full collection, then the heap and the rest, with no load running. */
    private static Footprint footprint(long pid, int metricsPort) throws Exception {
        Procs.run(Procs.jcmd(), Long.toString(pid), "GC.run");
        Scrape m = Scrape.of(metricsPort);
        return new Footprint((long) m.sum("jvm_memory_used_bytes", "area=\"heap\""), (long) m.sum("cellgate_netty_direct_memory_bytes", ""),
                Procs.rssBytes(pid), Procs.openFiles(pid), (long) m.sum("jvm_threads_current", ""));
    }

    /** Heap after each collection logged since line {@code seen}; returns the lines seen now. */
    private static long gcAfterValues(Path gcLog, long seen, List<Long> afterBytes) throws IOException {
        if (!Files.exists(gcLog)) {
            return seen;
        }
        List<String> lines = Files.readAllLines(gcLog, StandardCharsets.UTF_8);
        for (int i = (int) seen; i < lines.size(); i++) {
            Matcher m = GC_PAUSE.matcher(lines.get(i));
            if (m.find()) {
                afterBytes.add(Long.parseLong(m.group(2)) << 20);
            }
        }
        return lines.size();
    }

    private static void add(long[] into, long[] codes) {
        if (codes != null) {
            for (int i = 0; i < into.length && i < codes.length; i++) {
                into[i] += codes[i];
            }
        }
    }

    /** Requests answered SHED_OVERLOAD or DROPPED_OVERLOAD: refused at once by the gateway's own overload protection. */
    private static long shed(long[] codes) {
        return codes[Code.SHED_OVERLOAD_VALUE] + codes[Code.DROPPED_OVERLOAD_VALUE];
    }

    private static long sum(long[] codes) {
        long total = 0;
        for (long c : codes) {
            total += c;
        }
        return total;
    }

    private static String otherCodes(long[] reads, long[] writes) {
        StringBuilder s = new StringBuilder();
        for (int i = 1; i < reads.length; i++) {
            if (reads[i] + writes[i] > 0) {
                Code code = Code.forNumber(i);
                s.append(s.length() == 0 ? "" : ", ").append(code == null ? "code " + i : code.name())
                        .append(String.format(Locale.ROOT, " %,d (reads %,d, writes %,d)", reads[i] + writes[i], reads[i], writes[i]));
            }
        }
        return s.length() == 0 ? "none" : s.toString();
    }

    /** Start and end of a resource over the run: the mean of the first and of the last quarter of the samples. */
    private static String trend(List<Sample> samples, ToDoubleFunction<Sample> f, double scale, String unit) {
        List<Sample> usable = samples.stream().filter(s -> f.applyAsDouble(s) >= 0).toList();
        if (usable.size() < 4) {
            return "-";
        }
        int q = usable.size() / 4;
        double first = usable.subList(0, q).stream().mapToDouble(f).average().orElse(0) / scale;
        double last = usable.subList(usable.size() - q, usable.size()).stream().mapToDouble(f).average().orElse(0) / scale;
        return String.format(Locale.ROOT, "%.1f -> %.1f %s (%+.1f%%)", first, last, unit, first == 0 ? 0 : (last - first) * 100 / first);
    }

    private void writeReport(Outcome o) throws IOException {
        String base = plan.report().getFileName().toString().replaceAll("\\.md$", "");
        Path data = plan.report().toAbsolutePath().getParent().resolve(base);
        Files.createDirectories(data);
        StringBuilder md = new StringBuilder();
        md.append("# Soak, ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append("\n\n");
        md.append("Machine: ").append(Procs.machine()).append(". Everything runs on it: gatewayd, two AO processes, the idle-connection ")
                .append("holder and the load generator share its cores.\n\n");
        md.append(String.format(Locale.ROOT, "Command: `perf/run soak --minutes %s --idle %d --rate %.0f --connections %d --window %ds"
                        + " --route-interval %ds --failover-down %ds --churn %d%s`%n%n", trimmed(plan.duration().toSeconds() / 60.0), plan.idle(),
                plan.rate(), plan.connections(), plan.window().toSeconds(), plan.routeInterval().toSeconds(), plan.failoverDown().toSeconds(),
                plan.churn(), channelMode.equals("lean") ? "" : " --channel-mode " + channelMode));
        md.append(String.format(Locale.ROOT, "gatewayd (512 MiB heap, 2 event loops, `upstream.channel-mode: " + channelMode + "`) in front of sets sz-a and sz-b (one sample AO process each; "
                        + "health checks every 200 ms, writes of a DOWN set go to its peer) holds %,d idle logged-in connections that ping "
                        + "every 30 s (the heartbeat interval), carries %,.0f requests/s (half reads, half writes) "
                        + "over %d connections that are new in every %d s window, while %d clients a second "
                        + "connect, log in, read once and leave, a range of 128 slots moves between the sets every %d s through the admin "
                        + "API, and in the middle sz-a's AO process is killed, stays dead %d s and is started again.%n%n",
                plan.idle(), plan.rate(), plan.connections(), plan.window().toSeconds(), plan.churn(), plan.routeInterval().toSeconds(),
                plan.failoverDown().toSeconds()));
        md.append("## Verdict\n\n| | start | end |\n|---|---:|---:|\n");
        md.append(String.format(Locale.ROOT, "| live heap after a full GC, no load | %.1f MiB | %.1f MiB |%n", o.start().liveHeap() / 1048576.0,
                o.end().liveHeap() / 1048576.0));
        md.append(String.format(Locale.ROOT, "| Netty direct memory, no load | %.1f MiB | %.1f MiB |%n", o.start().direct() / 1048576.0,
                o.end().direct() / 1048576.0));
        md.append(String.format(Locale.ROOT, "| resident memory | %.0f MiB | %.0f MiB |%n", o.start().rss() / 1048576.0, o.end().rss() / 1048576.0));
        md.append(String.format(Locale.ROOT, "| open files | %d | %d |%n", o.start().fds(), o.end().fds()));
        md.append(String.format(Locale.ROOT, "| threads | %d | %d |%n%n", o.start().threads(), o.end().threads()));
        md.append("Per window, mean of the first quarter of the windows -> mean of the last quarter:\n\n");
        md.append("- heap after the window's collections (lowest): ").append(trend(o.samples(), Sample::heapAfterGc, 1048576.0, "MiB")).append('\n');
        md.append("- Netty direct memory: ").append(trend(o.samples(), Sample::direct, 1048576.0, "MiB")).append('\n');
        md.append("- resident memory: ").append(trend(o.samples(), Sample::rss, 1048576.0, "MiB")).append('\n');
        md.append("- open files: ").append(trend(o.samples(), Sample::fds, 1, "")).append('\n');
        md.append("- load p99: ").append(trend(o.samples(), Sample::p99Ms, 1, "ms")).append("\n\n");
        md.append(String.format(Locale.ROOT, "- reads: %,d of %,d OK; writes: %,d of %,d OK; unanswered: %d; other answers: %s%n",
                o.readsOk(), o.readsSent(), o.writesOk(), o.writesSent(), o.unanswered(), o.otherCodes()));
        md.append(String.format(Locale.ROOT, "- idle connections: %,d held at the end, %d closed by the gateway, %,d pongs%n", o.idleHeld(),
                o.idleLost(), o.pongs()));
        md.append(String.format(Locale.ROOT, "- churn: %,d connections logged in and out (%d failed)%n", o.churned(), o.churnFailed()));
        md.append(String.format(Locale.ROOT, "- route changes: %d (%d failed)%n", o.routeChanges(), o.routeChangesFailed()));
        md.append(String.format(Locale.ROOT, "- buffer leaks: %d (`cellgate_buffer_leaks_total`), LEAK in the log: %s%n", o.leaks(),
                o.leakInLog() ? "yes" : "no"));
        md.append(String.format(Locale.ROOT, "- set limits cut for a stall (calls waiting half their time): %d "
                + "(`cellgate_set_limit_stalls_total`, every set)%n", o.stallCuts()));
        md.append("- events:\n");
        o.events().forEach(e -> md.append("  - ").append(e).append('\n'));
        md.append("\n## Every window\n\n| end (s) | sent | OK | unanswered | p50 (ms) | p99 (ms) | max (ms) | heap used (MiB) | heap after GC (MiB) |"
                + " direct (MiB) | rss (MiB) | open files | threads | client connections | route epoch |\n");
        md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Sample s : o.samples()) {
            md.append(String.format(Locale.ROOT, "| %.0f | %,d | %,d | %d | %.2f | %.2f | %.2f | %.0f | %s | %.1f | %.0f | %d | %d | %,d | %d |%n",
                    s.endSeconds(), s.sent(), s.ok(), s.unanswered(), s.p50Ms(), s.p99Ms(), s.maxMs(), s.heapUsed() / 1048576.0,
                    s.heapAfterGc() < 0 ? "-" : Long.toString(s.heapAfterGc() >> 20), s.direct() / 1048576.0, s.rss() / 1048576.0, s.fds(),
                    s.threads(), s.connections(), s.routeEpoch()));
        }
        double[] x = o.samples().stream().mapToDouble(s -> s.endSeconds() / 60).toArray();
        SvgChart memory = new SvgChart("gatewayd memory over the soak", "minutes", "MiB", false)
                .series("heap after GC", x, o.samples().stream().mapToDouble(s -> Math.max(0, s.heapAfterGc()) / 1048576.0).toArray())
                .series("Netty direct", x, o.samples().stream().mapToDouble(s -> s.direct() / 1048576.0).toArray())
                .series("resident", x, o.samples().stream().mapToDouble(s -> s.rss() / 1048576.0).toArray());
        SvgChart latency = new SvgChart("Load latency per window", "minutes", "ms", true)
                .series("p50", x, o.samples().stream().mapToDouble(Sample::p50Ms).toArray())
                .series("p99", x, o.samples().stream().mapToDouble(Sample::p99Ms).toArray())
                .series("max", x, o.samples().stream().mapToDouble(Sample::maxMs).toArray());
        SvgChart files = new SvgChart("gatewayd open files", "minutes", "files", false)
                .series("open files", x, o.samples().stream().mapToDouble(Sample::fds).toArray());
        Files.writeString(data.resolve("memory.svg"), memory.render());
        Files.writeString(data.resolve("latency.svg"), latency.render());
        Files.writeString(data.resolve("files.svg"), files.render());
        md.append("\n![memory](").append(base).append("/memory.svg)\n\n![latency](").append(base).append("/latency.svg)\n\n![files](")
                .append(base).append("/files.svg)\n");
        try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(data.resolve("samples.csv")),
                StandardCharsets.UTF_8))) {
            w.write("end_s,sent,ok,unanswered,p50_ms,p99_ms,max_ms,heap_used,heap_after_gc,direct,rss,fds,threads,connections,route_epoch\n");
            for (Sample s : o.samples()) {
                w.write(String.format(Locale.ROOT, "%.1f,%d,%d,%d,%.3f,%.3f,%.3f,%d,%d,%d,%d,%d,%d,%d,%d%n", s.endSeconds(), s.sent(), s.ok(),
                        s.unanswered(), s.p50Ms(), s.p99Ms(), s.maxMs(), s.heapUsed(), s.heapAfterGc(), s.direct(), s.rss(), s.fds(),
                        s.threads(), s.connections(), s.routeEpoch()));
            }
        }
        Files.createDirectories(plan.report().toAbsolutePath().getParent());
        Files.writeString(plan.report(), md.toString());
        out.println("report: " + plan.report());
    }

    private static String trimmed(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
