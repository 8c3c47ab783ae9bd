package io.cellgate.perf.harness;

import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.GrpcLoadGenerator;
import io.cellgate.perf.load.LoadGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * P1 and P2: what the cellgate hop costs. One sample AO process; three paths to it, measured in the
 * same run at the same open-loop rates: direct gRPC, gRPC through nginx {@code grpc_pass}, and the
 * cellgate protocol through a gatewayd process. At each rate step every path runs in turn (so drift
 * of the machine hits all three alike) until it can no longer sustain the rate. Reports latency (from
 * the intended send time), throughput, the CPU time per request of the AO, the proxy and the
 * generator (from {@code /proc}), and a profile of the gateway at 75% of its capacity or at
 * {@code --profile-rate}: JFR (Java frames), or with {@code --profiler perf} Linux perf (the whole
 * process, kernel included: what a request costs at low rates is mostly system calls and wake-ups).
 *
 * <p>Then the ceiling with the same work in flight on each path: a closed loop of {@code --closed-loop}
 * requests in flight per path (spread over its connections; the next request leaves when one is
 * answered), {@code --closed-runs} times, the paths in turn within each run, throughput compared with
 * direct's in the same run.
 *
 * <p>The generator (this JVM), the AO and the proxy (gatewayd, or nginx's master and workers) can
 * each be pinned to CPUs ({@code taskset}) so the scheduler does not move the contention between
 * them from run to run.
 *
 * <p>{@code perf/run hop [--rates 2000,4000,...] [--seconds 8] [--connections 16] [--payload 64]
 * [--warmup-seconds 10] [--profile-seconds 15] [--profile-rate 0] [--profiler jfr|perf] [--closed-loop 256]
 * [--closed-runs 3] [--pin-generator CPUS] [--pin-ao CPUS] [--pin-proxy CPUS] [--channel-mode lean|per-event-loop|shared]
 * [--out perf/results/hop-DATE.md]}
 */
public final class HopScenario {
    static final String SECRET = "hop-scenario-secret-0123456789";
    static final List<String> PATHS = List.of("direct", "nginx", "cellgate");
    /** The gateway's upstream channel mode unless {@code --channel-mode} says otherwise. */
    static final String DEFAULT_CHANNEL_MODE = "lean";
    /** A step is sustained when at least this share of the offered requests was answered OK ... */
    static final double SUSTAINED_OK = 0.99;
    /** ... and its p99 stayed under this many milliseconds. */
    static final double SUSTAINED_P99_MS = 50;
    private String channelMode = DEFAULT_CHANNEL_MODE;

    /**
     * One path at one rate. CPU in microseconds per OK request ({@code proxyJitCpuUs}: the part of
     * the gateway's spent by its JIT compiler threads, 0 for nginx); {@code sendLag} is how late the
     * generator handed each request to its connection (actual minus intended send time), microseconds.
     */
    record Step(String path, double offered, double okPerSecond, long ok, long failed, Histogram latency, double aoCpuUs,
                double proxyCpuUs, double proxyJitCpuUs, double generatorCpuUs, Histogram sendLag) {
        /**
         * The generator lagged by more than a tenth of the latency it measured (p99 against p99): the
         * step measured the generator as much as the path, and no goal is judged on it.
         */
        boolean generatorBound() {
            return sendLag.getValueAtPercentile(99) > latency.getValueAtPercentile(99) / 10.0;
        }

        double lagMs(double percentile) {
            return sendLag.getValueAtPercentile(percentile) / 1000.0;
        }

        boolean sustained() {
            return ok >= SUSTAINED_OK * offered * seconds() && latency.getValueAtPercentile(99) / 1000.0 <= SUSTAINED_P99_MS;
        }

        double seconds() {
            return okPerSecond == 0 ? 1 : ok / okPerSecond;
        }

        double ms(double percentile) {
            return latency.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    private final List<Integer> rates;
    private final Duration stepDuration;
    private final int connections;
    private final int payload;
    private final int profileSeconds;
    /** Requests in flight per path in the closed-loop runs; how many such runs (0: none). */
    private int closedInFlight = 256;
    private int closedRuns;
    /** How long every path runs at the third rate before the first step. */
    private Duration warmUp;
    /** The longest warm-up round: each round opens its connections anew. */
    static final Duration WARM_UP_ROUND = Duration.ofSeconds(5);
    /** The rate the gateway is profiled at (0: 75% of the highest it sustained), and with which profiler. */
    private int profileRate;
    private String profiler = "jfr";
    private List<String> gatewayOpts = List.of();
    /** CPU lists for {@code taskset -c} (empty: not pinned). */
    private String pinGenerator = "";
    private String pinAo = "";
    private String pinProxy = "";
    private final Path report;
    private final PrintStream out;
    private final Path dir;
    private Process ao;
    private Process gateway;
    private Process nginx;
    private int aoPort;
    private int gatewayPort;
    private int nginxPort;

    HopScenario(List<Integer> rates, Duration stepDuration, int connections, int payload, int profileSeconds, Path report,
                PrintStream out) throws IOException {
        this.rates = rates;
        this.stepDuration = stepDuration;
        this.connections = connections;
        this.payload = payload;
        this.profileSeconds = profileSeconds;
        this.report = report;
        this.out = out;
        this.dir = Files.createTempDirectory("cellgate-hop");
        this.warmUp = Duration.ofSeconds(Math.min(10, 2 * stepDuration.toSeconds()));
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.ofEntries(
                Map.entry("--rates", "2000,4000,6000,8000,10000,12000,14000,16000,18000,20000,24000,28000,32000,36000,40000,48000"),
                Map.entry("--seconds", "8"), Map.entry("--connections", "16"), Map.entry("--payload", "64"),
                Map.entry("--warmup-seconds", "10"), Map.entry("--profile-seconds", "15"), Map.entry("--profile-rate", "0"),
                Map.entry("--profiler", "jfr"), Map.entry("--closed-loop", "256"), Map.entry("--closed-runs", "3"),
                Map.entry("--pin-generator", "none"), Map.entry("--pin-ao", "none"), Map.entry("--pin-proxy", "none"),
                Map.entry("--channel-mode", DEFAULT_CHANNEL_MODE), Map.entry("--gateway-opts", ""),
                Map.entry("--out", "perf/results/hop-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md")));
        List<Integer> rates = Arrays.stream(a.get("--rates").split(",")).map(String::trim).map(Integer::parseInt).toList();
        HopScenario hop = new HopScenario(rates, Duration.ofSeconds(Long.parseLong(a.get("--seconds"))),
                Integer.parseInt(a.get("--connections")), Integer.parseInt(a.get("--payload")),
                Integer.parseInt(a.get("--profile-seconds")), Path.of(a.get("--out")), System.out);
        hop.closedLoop(Integer.parseInt(a.get("--closed-loop")), Integer.parseInt(a.get("--closed-runs")));
        hop.warmUp(Duration.ofSeconds(Long.parseLong(a.get("--warmup-seconds"))));
        hop.profile(Integer.parseInt(a.get("--profile-rate")), a.get("--profiler"));
        hop.pin(cpus(a.get("--pin-generator")), cpus(a.get("--pin-ao")), cpus(a.get("--pin-proxy")));
        hop.channelMode(a.get("--channel-mode"));
        hop.gatewayOpts(a.get("--gateway-opts"));
        hop.run();
    }

    /** JVM options for gatewayd beyond its own (space-separated, e.g. a GC to compare). Returns this. */
    HopScenario gatewayOpts(String opts) {
        this.gatewayOpts = opts.isBlank() ? List.of() : List.of(opts.trim().split("\\s+"));
        return this;
    }

    /** The gateway's {@code upstream.channel-mode} for its runs. Returns this. */
    HopScenario channelMode(String mode) {
        this.channelMode = mode;
        return this;
    }

    /**
     * Closed-loop runs after the rate steps: {@code inFlight} requests in flight per path (a multiple of
     * the connections), {@code runs} times. Returns this.
     */
    HopScenario closedLoop(int inFlight, int runs) {
        if (runs > 0 && (inFlight < connections || inFlight % connections != 0)) {
            throw new IllegalArgumentException("--closed-loop " + inFlight + " must be a multiple of --connections " + connections);
        }
        this.closedInFlight = inFlight;
        this.closedRuns = runs;
        return this;
    }

    /** Rounds of at most {@link #WARM_UP_ROUND} in which {@code warmUp} runs, each with new connections. */
    static int warmUpRounds(Duration warmUp) {
        return (int) Math.max(1, (warmUp.toMillis() + WARM_UP_ROUND.toMillis() - 1) / WARM_UP_ROUND.toMillis());
    }

    /** Every path runs {@code warmUp} before the first step. Returns this. */
    HopScenario warmUp(Duration warmUp) {
        this.warmUp = warmUp;
        return this;
    }

    /**
     * The gateway is profiled at {@code rate} (0: 75% of the highest rate it sustained) with
     * {@code profiler}: {@code jfr}, or {@code perf} (Linux perf, which must be installed). Returns this.
     */
    HopScenario profile(int rate, String profiler) {
        if (!profiler.equals("jfr") && !profiler.equals("perf")) {
            throw new IllegalArgumentException("--profiler must be jfr or perf, not " + profiler);
        }
        if (profiler.equals("perf") && !PerfSummary.available()) {
            throw new IllegalArgumentException("--profiler perf: Linux perf is not installed (Debian: linux-perf)");
        }
        this.profileRate = rate;
        this.profiler = profiler;
        return this;
    }

    /** Pins the generator, the AO and the proxy to these CPU lists ({@code taskset -c}; empty: not pinned). Returns this. */
    HopScenario pin(String generator, String ao, String proxy) {
        this.pinGenerator = generator;
        this.pinAo = ao;
        this.pinProxy = proxy;
        return this;
    }

    private static String cpus(String option) {
        if (option.equals("none")) {
            return "";
        }
        if (!option.matches("[0-9]+([-,][0-9]+)*")) {
            throw new IllegalArgumentException("a CPU list for taskset -c (0, 1, 0-1, 0,2), or none: " + option);
        }
        return option;
    }

    /** The closed-loop steps of the last {@link #run} (offered 0), in order: run by run, the paths in turn. */
    List<Step> closedSteps() {
        return closedSteps;
    }

    private final List<Step> closedSteps = new ArrayList<>();
    /** The warm-up rounds of the last {@link #run}, the paths in turn within each round: reported, never judged. */
    private final List<Step> warmUpSteps = new ArrayList<>();

    /** Runs the whole scenario and writes the report; returns the steps measured. */
    List<Step> run() throws Exception {
        try {
            startPeers();
            pinAll();
            // Each JVM compiles its hot paths during the warm-up, not during the first measured steps. In
            // rounds, each with new connections: a JIT that has only seen one batch of connections open and
            // then requests compiles the connect, login and close branches out, and recompiles its hot path
            // when the next batch logs in (a gateway in service sees connections come and go all along).
            int warmRate = rates.get(Math.min(2, rates.size() - 1));
            int rounds = warmUpRounds(warmUp);
            out.printf("warming up every path at %,d/s for %d s, in %d rounds...%n", warmRate, warmUp.toSeconds(), rounds);
            warmUpSteps.clear();
            for (int round = 0; round < rounds; round++) {
                for (String path : PATHS) {
                    warmUpSteps.add(measure(path, warmRate, warmUp.dividedBy(rounds)));
                }
            }
            List<Step> steps = new ArrayList<>();
            Map<String, Double> capacity = new LinkedHashMap<>();
            List<String> open = new ArrayList<>(PATHS);
            for (int rate : rates) {
                for (String path : List.copyOf(open)) {
                    Step s = measure(path, rate, stepDuration);
                    steps.add(s);
                    out.printf(Locale.ROOT, "%-8s %,7d/s offered: %,9.0f/s ok, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms;"
                                    + " CPU/req AO %.1f us, proxy %s us; generator lag p99 %.2f ms%s%s%n", path, rate, s.okPerSecond(),
                            s.ms(50), s.ms(99), s.ms(99.9), s.aoCpuUs(), proxyCpuText(s), s.lagMs(99), s.sustained() ? "" : "  (not sustained)",
                            s.generatorBound() ? "  (generator-bound)" : "");
                    if (s.sustained()) {
                        capacity.put(path, (double) rate);
                    } else {
                        open.remove(path);
                    }
                }
                if (open.isEmpty()) {
                    break;
                }
            }
            closedSteps.clear();
            for (int run = 1; run <= closedRuns; run++) {
                for (String path : PATHS) {
                    Step s = measure(path, 0, stepDuration, closedInFlight / connections);
                    closedSteps.add(s);
                    out.printf(Locale.ROOT, "closed loop run %d, %-8s %d in flight: %,9.0f/s ok, p50 %.2f ms, p99 %.2f ms;"
                                    + " CPU/req AO %.1f us, proxy %s us%n", run, path, closedInFlight, s.okPerSecond(), s.ms(50), s.ms(99),
                            s.aoCpuUs(), proxyCpuText(s));
                }
            }
            String profile = "";
            double cellgateCapacity = capacity.getOrDefault("cellgate", 0.0);
            if (profileSeconds > 0 && (profileRate > 0 || cellgateCapacity > 0)) {
                profile = profileGateway(profileRate > 0 ? profileRate : (int) (0.75 * cellgateCapacity));
            }
            writeReport(steps, capacity, profile);
            return steps;
        } finally {
            Procs.stop(gateway);
            Procs.stop(ao);
            if (nginx != null) {
                Procs.stop(nginx);
            }
        }
    }

    private void startPeers() throws Exception {
        aoPort = Procs.freePort();
        Path aoLog = dir.resolve("ao.log");
        ao = Procs.java(aoLog, List.of("-Xms512m", "-Xmx512m"), "io.cellgate.perf.ao.SampleAoServer", "--set", "sz-a", "--port",
                Integer.toString(aoPort));
        Procs.awaitPort(aoPort, ao, aoLog);

        gatewayPort = Procs.freePort();
        Path config = dir.resolve("gateway.yaml");
        Files.writeString(config, gatewayYaml(gatewayPort, aoPort, channelMode));
        Path gatewayLog = dir.resolve("gatewayd.log");
        // bin/gatewayd's JVM options (GATEWAYD_JVM_OPTS in bin/common.sh), a fixed heap, and the compiler
        // threads kept alive, so their CPU time, reported apart, stays in the per-thread sums.
        List<String> jvm = new ArrayList<>(List.of("-Xms512m", "-Xmx512m", "-XX:-UseDynamicNumberOfCompilerThreads"));
        jvm.addAll(Procs.GATEWAYD_JVM_OPTS);
        jvm.addAll(gatewayOpts);
        gateway = Procs.java(gatewayLog, jvm, "io.cellgate.server.Gatewayd", "--config", config.toString());
        Procs.awaitLine(gatewayLog, "gatewayd: listening on port", gateway);

        nginxPort = Procs.freePort();
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, nginxConf(nginxPort, aoPort, dir));
        Path nginxLog = dir.resolve("nginx.out");
        nginx = new ProcessBuilder(nginxBinary(), "-p", dir.toString(), "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(nginxLog.toFile()).start();
        Procs.awaitPort(nginxPort, nginx, nginxLog);
        out.printf("AO pid %d on %d, gatewayd pid %d on %d, nginx pid %d on %d (%s)%n", ao.pid(), aoPort, gateway.pid(), gatewayPort,
                nginx.pid(), nginxPort, dir);
    }

    /** Pins each process to its CPUs, every thread it has (threads it starts later inherit the mask). */
    private void pinAll() throws IOException, InterruptedException {
        List<Long> proxies = new ArrayList<>(List.of(gateway.pid()));
        proxies.addAll(nginxPids());
        List<String> pinned = new ArrayList<>();
        pin("generator", pinGenerator, List.of(ProcessHandle.current().pid()), pinned);
        pin("AO", pinAo, List.of(ao.pid()), pinned);
        pin("proxy", pinProxy, proxies, pinned);
        if (!pinned.isEmpty()) {
            out.println("pinned: " + String.join(", ", pinned));
        }
    }

    private static void pin(String role, String cpus, List<Long> pids, List<String> pinned) throws IOException, InterruptedException {
        if (cpus.isEmpty()) {
            return;
        }
        for (long pid : pids) {
            Procs.run("taskset", "-a", "-p", "-c", cpus, Long.toString(pid));
        }
        pinned.add(role + " " + cpus);
    }

    /** nginx's master and its workers. */
    private List<Long> nginxPids() {
        List<Long> pids = new ArrayList<>(List.of(nginx.pid()));
        pids.addAll(Procs.children(nginx.pid()));
        return pids;
    }

    static String nginxBinary() throws IOException {
        for (String candidate : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new IOException("nginx is not installed (expected: Debian's nginx package; .ci/run installs it)");
    }

    /**
     * nginx as its operators would run it for gRPC: a worker per core, access log off, an upstream
     * keepalive pool larger than the requests in flight (nginx sends one request at a time per
     * upstream HTTP/2 connection), and keepalive requests raised so no connection is recycled mid-run.
     */
    static String nginxConf(int port, int aoPort, Path dir) {
        return """
                worker_processes %d;
                error_log %s/error.log warn;
                pid %s/nginx.pid;
                daemon off;
                worker_rlimit_nofile 16384;
                events { worker_connections 8192; multi_accept on; }
                http {
                  access_log off;
                  keepalive_requests 10000000;
                  keepalive_timeout 600s;
                  client_body_temp_path %s/client_body;
                  upstream ao {
                    server 127.0.0.1:%d;
                    keepalive 512;
                    keepalive_requests 10000000;
                    keepalive_timeout 600s;
                  }
                  server {
                    listen 127.0.0.1:%d http2;
                    location / {
                      grpc_pass grpc://ao;
                    }
                  }
                }
                """.formatted(Runtime.getRuntime().availableProcessors(), dir, dir, dir, aoPort, port);
    }

    /** The gateway: one set, one READ command to the AO's Echo, limits that do not cap a benchmark connection. */
    static String gatewayYaml(int port, int aoPort) {
        return gatewayYaml(port, aoPort, DEFAULT_CHANNEL_MODE);
    }

    static String gatewayYaml(int port, int aoPort, String channelMode) {
        return """
                gateway: {city: sz, idc: sz-1, transport: auto, event-loop-threads: %d}
                listen: {client: 127.0.0.1:%d, metrics: off}
                login: {token-secret: %s, timeout: 10s, heartbeat-interval: 10m}
                limits: {max-frame-bytes: 65536, max-in-flight-per-connection: 100000}
                topology:
                  sets:
                    - {name: sz-a, city: sz, idc: sz-1, endpoints: ["127.0.0.1:%d"]}
                routes:
                  slots: 16384
                  write-points:
                    - {slots: 0-16383, set: sz-a}
                commands:
                  - {cmd: 1, method: cellgate.sample.v1.SampleAo/Echo, route: READ, priority: P1, timeout: 10s}
                upstream:
                  channel-mode: %s
                  health: {enabled: false}
                admission:
                  accept-rate: 100000
                  login-rate: 100000
                  connection-rate: 1000000
                  # Every simulated client comes from this host's loopback /24: no per-source share.
                  source-share: 1
                """.formatted(Integer.getInteger("cellgate.event-loops", Runtime.getRuntime().availableProcessors()), port, SECRET,
                aoPort, channelMode);
    }

    private Step measure(String path, int rate, Duration duration) throws InterruptedException {
        return measure(path, rate, duration, 0);
    }

    /** One path for {@code duration}: open loop at {@code rate}, or with {@code inFlight} > 0 closed loop, that many per connection. */
    private Step measure(String path, int rate, Duration duration, int inFlight) throws InterruptedException {
        long self = ProcessHandle.current().pid();
        double aoBefore = Procs.cpuSeconds(ao.pid(), false);
        double proxyBefore = proxyCpu(path);
        double genBefore = Procs.cpuSeconds(self, false);
        double jitBefore = path.equals("cellgate") ? Procs.compilerCpuSeconds(gateway.pid()) : 0;
        long ok;
        long failed;
        Histogram latency;
        Histogram sendLag;
        double seconds;
        Duration tick = Duration.ofNanos(200_000);
        if (path.equals("cellgate")) {
            LoadGenerator.Result r = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gatewayPort, List.of("127.0.0.1"),
                    connections, rate, duration, SECRET.getBytes(StandardCharsets.UTF_8), 1,
                    List.of(new CommandMix(1, CommandMix.Kind.ECHO, false, 1)), payload, 1, tick, inFlight)).run(out);
            ok = r.ok();
            failed = r.answered() - r.ok() + r.unanswered();
            latency = r.latencyMicros();
            sendLag = r.sendLagMicros();
            seconds = r.seconds();
        } else {
            int port = path.equals("direct") ? aoPort : nginxPort;
            GrpcLoadGenerator.Result r = new GrpcLoadGenerator(new GrpcLoadGenerator.Options("127.0.0.1", port, List.of("127.0.0.1"),
                    connections, rate, duration, payload, 1, tick, inFlight)).run(out);
            ok = r.ok();
            failed = r.failed() + (r.sent() - r.ok() - r.failed());
            latency = r.latencyMicros();
            sendLag = r.sendLagMicros();
            seconds = r.seconds();
        }
        double perOk = 1e6 / Math.max(1, ok);
        return new Step(path, rate, ok / seconds, ok, failed, latency,
                (Procs.cpuSeconds(ao.pid(), false) - aoBefore) * perOk,
                (proxyCpu(path) - proxyBefore) * perOk,
                path.equals("cellgate") ? (Procs.compilerCpuSeconds(gateway.pid()) - jitBefore) * perOk : 0,
                (Procs.cpuSeconds(self, false) - genBefore) * perOk, sendLag);
    }

    private double proxyCpu(String path) {
        return switch (path) {
            case "nginx" -> Procs.cpuSeconds(nginx.pid(), true);
            case "cellgate" -> Procs.cpuSeconds(gateway.pid(), false);
            default -> 0;
        };
    }

    /** Profiles the gateway while it serves {@code rate}; returns the summary. */
    private String profileGateway(int rate) throws Exception {
        out.printf("profiling gatewayd with %s at %,d/s for %d s...%n", profiler, rate, profileSeconds);
        String at = "Gateway at " + String.format(Locale.ROOT, "%,d", rate) + " req/s ("
                + (profileRate > 0 ? "`--profile-rate`" : "75% of its capacity") + "), " + profileSeconds + " s of ";
        if (profiler.equals("perf")) {
            // nginx too, at the same rate with the same tool: what each proxy spends a request on.
            return at + "Linux perf (the whole process: kernel, compiled Java, the JVM):\n\n"
                    + perfProfile("cellgate", List.of(gateway.pid()), gateway.pid(), rate)
                    + "\nnginx (master and workers) at the same rate, the same way:\n\n"
                    + perfProfile("nginx", nginxPids(), 0, rate);
        }
        Path jfr = dir.resolve("gatewayd.jfr");
        Procs.run(Procs.jcmd(), Long.toString(gateway.pid()), "JFR.start", "name=hop", "settings=profile",
                "filename=" + jfr);
        measure("cellgate", rate, Duration.ofSeconds(profileSeconds));
        Procs.run(Procs.jcmd(), Long.toString(gateway.pid()), "JFR.stop", "name=hop");
        return at + "JFR (`settings=profile`):\n\n" + JfrSummary.summarize(jfr, 15);
    }

    private String perfProfile(String path, List<Long> pids, long jvmPid, int rate) throws Exception {
        Path data = dir.resolve(path + ".perf.data");
        Process recording = PerfSummary.record(pids, profileSeconds, data);
        Step s = measure(path, rate, Duration.ofSeconds(profileSeconds));
        if (!recording.waitFor(30, TimeUnit.SECONDS) || recording.exitValue() != 0) {
            recording.destroyForcibly();
            throw new IOException("perf record of " + path + " failed");
        }
        return PerfSummary.summarize(jvmPid, data, profileSeconds, s.okPerSecond(), 20)
                + String.format(Locale.ROOT, "Over the same window from `/proc`: %.1f µs of CPU per OK request (%,.0f OK/s).%n%n",
                s.proxyCpuUs(), s.okPerSecond());
    }

    private void writeReport(List<Step> steps, Map<String, Double> capacity, String profile) throws IOException {
        Path results = report.toAbsolutePath().getParent();
        String base = report.getFileName().toString().replaceFirst("\\.md$", "");
        Path data = results.resolve(base);
        Files.createDirectories(data);
        double direct = capacity.getOrDefault("direct", 0.0);
        double cg = capacity.getOrDefault("cellgate", 0.0);
        double ng = capacity.getOrDefault("nginx", 0.0);
        double limit75 = 0.75 * Math.min(cg, ng);

        StringBuilder md = new StringBuilder();
        md.append("# Hop: cellgate vs nginx grpc_pass vs direct gRPC, ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append("\n\n");
        md.append("Machine: ").append(Procs.machine()).append(". Everything on this one machine: the sample AO, gatewayd,\n")
                .append("nginx and the load generator share its cores, so every figure includes that contention, for every path alike.\n\n");
        md.append("Command: `perf/run hop").append(rates.equals(defaultRates()) ? "" : " --rates " + join(rates))
                .append(" --seconds ").append(stepDuration.toSeconds()).append(" --connections ").append(connections)
                .append(" --payload ").append(payload)
                .append(closedRuns == 3 && closedInFlight == 256 ? "" : " --closed-loop " + closedInFlight + " --closed-runs " + closedRuns)
                .append(warmUp.toSeconds() == 10 ? "" : " --warmup-seconds " + warmUp.toSeconds())
                .append(profileSeconds == 15 ? "" : " --profile-seconds " + profileSeconds)
                .append(profileRate == 0 ? "" : " --profile-rate " + profileRate)
                .append(profiler.equals("jfr") ? "" : " --profiler " + profiler)
                .append(pinGenerator.isEmpty() ? "" : " --pin-generator " + pinGenerator)
                .append(pinAo.isEmpty() ? "" : " --pin-ao " + pinAo)
                .append(pinProxy.isEmpty() ? "" : " --pin-proxy " + pinProxy)
                .append(channelMode.equals(DEFAULT_CHANNEL_MODE) ? "" : " --channel-mode " + channelMode)
                .append(gatewayOpts.isEmpty() ? "" : " --gateway-opts '" + String.join(" ", gatewayOpts) + "'")
                .append("`\n\n");
        md.append("Setup: one sample AO process (gRPC `Echo`, no injected latency, 512 MiB heap); gatewayd (").append(Runtime.getRuntime()
                        .availableProcessors()).append(" event loops, `upstream.channel-mode: ").append(channelMode)
                        .append("`, 512 MiB heap, bin/gatewayd's JVM options").append(gatewayOpts.isEmpty() ? "" : " and `"
                                + String.join(" ", gatewayOpts) + "`").append("); nginx ")
                .append(nginxVersion()).append(" configured as its operators would for gRPC: `worker_processes` = cores, ")
                .append("`access_log off`, an upstream `keepalive 512` pool, `keepalive_requests` raised to 10M on both sides. ")
                .append("The generator opens ").append(connections).append(" connections per path (cellgate protocol, or HTTP/2 ")
                .append("for direct and nginx), sends ").append(payload).append("-byte echo requests open-loop at the offered rate, ")
                .append("and measures each latency from its intended send time (coordinated omission corrected). A rate is ")
                .append("sustained when >= 99% of its requests are answered OK and p99 <= 50 ms. The generator's lag (actual minus ")
                .append("intended send time; it sends what is due every 200 µs, so up to 0.2 ms is its schedule) is reported for every ")
                .append("step; a step where its p99 exceeds a tenth of the p99 latency it measured is generator-bound, and no goal is ")
                .append("judged on it. Every path ran ").append(warmUp.toSeconds()).append(" s before the first step (JIT warm-up), in ").append(warmUpRounds(warmUp))
                .append(" rounds, each with new connections. ")
                .append(pinGenerator.isEmpty() && pinAo.isEmpty() && pinProxy.isEmpty() ? "No process was pinned to CPUs."
                        : "Pinned to CPUs (`taskset`): generator " + orAny(pinGenerator) + ", AO " + orAny(pinAo) + ", proxy "
                        + orAny(pinProxy) + ".")
                .append("\n\n");

        md.append("## Goals\n\n| id | goal | measured | verdict |\n|---|---|---|---|\n");
        md.append(p1Row(steps, limit75));
        md.append(String.format(Locale.ROOT, "| P2 | cellgate / direct max sustained throughput >= 0.6 | %,.0f / %,.0f req/s = **%.2f** (nginx: %,.0f = %.2f) | %s |%n",
                cg, direct, direct == 0 ? 0 : cg / direct, ng, direct == 0 ? 0 : ng / direct,
                direct > 0 && cg / direct >= 0.6 ? "met" : "missed by " + String.format(Locale.ROOT, "%.2f", 0.6 - (direct == 0 ? 0 : cg / direct))));
        md.append(closedRow());
        md.append("\n## Every step\n\nLatency in ms from the intended send time; added = path minus direct at the same rate; CPU in µs per OK request "
                + "(cellgate's proxy CPU with, in brackets, the part its JIT compiler threads spent: a one-time cost, high while the JVM "
                + "still compiles the code a rate exercises).\n\n");
        md.append("| offered/s | path | OK/s | p50 | p99 | p99.9 | added p50 | added p99 | added p99.9 | CPU AO | CPU proxy | CPU generator "
                + "| generator lag p50/p99 | sustained |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        StringBuilder json = new StringBuilder("[\n");
        for (Step s : steps) {
            Step d = find(steps, "direct", s.offered());
            md.append(String.format(Locale.ROOT, "| %,.0f | %s | %,.0f | %.2f | %.2f | %.2f | %s | %s | %s | %.1f | %s | %.1f | %.2f/%.2f%s | %s |%n",
                    s.offered(), s.path(), s.okPerSecond(), s.ms(50), s.ms(99), s.ms(99.9),
                    added(s, d, 50), added(s, d, 99), added(s, d, 99.9), s.aoCpuUs(),
                    proxyCpuText(s), s.generatorCpuUs(), s.lagMs(50), s.lagMs(99), s.generatorBound() ? " **generator-bound**" : "", s.sustained() ? "yes" : "**no**"));
            String hgrm = s.path() + "-" + (long) s.offered() + ".hgrm";
            try (PrintStream h = new PrintStream(Files.newOutputStream(data.resolve(hgrm)), false, StandardCharsets.UTF_8)) {
                s.latency().outputPercentileDistribution(h, 1000.0);
            }
            json.append(String.format(Locale.ROOT, "  {\"path\": \"%s\", \"offered\": %.0f, \"ok_per_second\": %.1f, \"ok\": %d, \"failed\": %d,"
                            + " \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, \"cpu_us_per_request\": {\"ao\": %.2f,"
                            + " \"proxy\": %.2f, \"proxy_jit\": %.2f, \"generator\": %.2f}, \"generator_lag_ms\": {\"p50\": %.3f, \"p99\": %.3f},"
                            + " \"generator_bound\": %b, \"sustained\": %b, \"histogram\": \"%s\"},%n",
                    s.path(), s.offered(), s.okPerSecond(), s.ok(), s.failed(), s.ms(50), s.ms(99), s.ms(99.9),
                    s.latency().getMaxValue() / 1000.0, s.aoCpuUs(), s.proxyCpuUs(), s.proxyJitCpuUs(), s.generatorCpuUs(), s.lagMs(50),
                    s.lagMs(99),
                    s.generatorBound(), s.sustained(), hgrm));
        }
        md.append(warmUpTable());
        if (json.length() > 2) {
            json.setLength(json.length() - 2);
        }
        json.append("\n]\n");
        Files.writeString(data.resolve("summary.json"), json.toString());

        double reference = steps.stream().filter(s -> s.offered() <= limit75).mapToDouble(Step::offered).max()
                .orElse(rates.get(0));
        String[] labels = {"p50", "p90", "p99", "p99.9", "p99.99"};
        double[] percentiles = {50, 90, 99, 99.9, 99.99};
        SvgChart curves = new SvgChart(String.format(Locale.ROOT, "Latency percentiles at %,.0f req/s", reference), "percentile",
                "ms (log)", true).categories(labels);
        SvgChart p99 = new SvgChart("p99 latency by offered rate", "offered req/s", "ms (log)", true);
        for (String path : PATHS) {
            Step s = find(steps, path, reference);
            if (s != null) {
                double[] x = new double[percentiles.length];
                double[] y = new double[percentiles.length];
                for (int i = 0; i < percentiles.length; i++) {
                    x[i] = i;
                    y[i] = Math.max(0.01, s.ms(percentiles[i]));
                }
                curves.series(path, x, y);
            }
            List<Step> mine = steps.stream().filter(t -> t.path().equals(path)).toList();
            p99.series(path, mine.stream().mapToDouble(Step::offered).toArray(),
                    mine.stream().mapToDouble(t -> Math.max(0.01, t.ms(99))).toArray());
        }
        Files.writeString(data.resolve("latency-percentiles.svg"), curves.render());
        Files.writeString(data.resolve("p99-by-rate.svg"), p99.render());
        md.append("\n![latency percentiles](").append(base).append("/latency-percentiles.svg)\n\n![p99 by rate](").append(base)
                .append("/p99-by-rate.svg)\n\n");
        md.append("Histograms (`.hgrm`, HdrHistogram percentile output in ms) and `summary.json` for every step are in `")
                .append(base).append("/`.\n\n");
        md.append(closedSection());
        md.append("## What limits the figures\n\n");
        md.append(profile.isEmpty() ? "(no profile was taken)\n" : profile).append('\n');
        Files.writeString(report, md.toString());
        out.println("report: " + report);
    }

    private String p1Row(List<Step> steps, double limit75) {
        int compared = 0;
        int latencyWins = 0;
        int cpuWins = 0;
        StringBuilder detail = new StringBuilder();
        for (Step c : steps) {
            if (!c.path().equals("cellgate") || c.offered() > limit75) {
                continue;
            }
            Step n = find(steps, "nginx", c.offered());
            Step d = find(steps, "direct", c.offered());
            if (n == null || d == null) {
                continue;
            }
            if (c.generatorBound() || n.generatorBound() || d.generatorBound()) {
                detail.append(String.format(Locale.ROOT, "%,.0f/s: not judged, generator-bound; ", c.offered()));
                continue;
            }
            compared++;
            boolean less = c.ms(50) - d.ms(50) < n.ms(50) - d.ms(50) && c.ms(99) - d.ms(99) < n.ms(99) - d.ms(99)
                    && c.ms(99.9) - d.ms(99.9) < n.ms(99.9) - d.ms(99.9);
            if (less) {
                latencyWins++;
            }
            if (c.proxyCpuUs() <= n.proxyCpuUs()) {
                cpuWins++;
            }
            detail.append(String.format(Locale.ROOT, "%,.0f/s: +%.2f/+%.2f/+%.2f vs +%.2f/+%.2f/+%.2f ms, CPU %.1f vs %.1f µs; ",
                    c.offered(), c.ms(50) - d.ms(50), c.ms(99) - d.ms(99), c.ms(99.9) - d.ms(99.9),
                    n.ms(50) - d.ms(50), n.ms(99) - d.ms(99), n.ms(99.9) - d.ms(99.9), c.proxyCpuUs(), n.proxyCpuUs()));
        }
        String verdict = compared == 0 ? "not measured" : latencyWins == compared && cpuWins == compared ? "met"
                : "missed at " + (compared - Math.min(latencyWins, cpuWins)) + " of " + compared + " rates (latency won at "
                + latencyWins + ", CPU at " + cpuWins + ")";
        return String.format(Locale.ROOT, "| P1 | cellgate adds less latency than nginx (p50, p99, p99.9) at every rate up to 75%% of capacity "
                + "(%,.0f/s), CPU per request <= nginx's | cellgate vs nginx added p50/p99/p99.9 and proxy CPU per request: %s| %s |%n",
                limit75, detail, verdict);
    }

    /** Each closed-loop run's path throughputs over direct's of the same run, and their median. */
    private double[] closedRatios(String path) {
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i + PATHS.size() <= closedSteps.size(); i += PATHS.size()) {
            double direct = closedSteps.get(i).okPerSecond();
            Step s = closedSteps.get(i + PATHS.indexOf(path));
            ratios.add(direct == 0 ? 0 : s.okPerSecond() / direct);
        }
        return ratios.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length == 0 ? 0 : sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    private String closedRow() {
        if (closedSteps.isEmpty()) {
            return "";
        }
        double[] cg = closedRatios("cellgate");
        double[] ng = closedRatios("nginx");
        double m = median(cg);
        return String.format(Locale.ROOT, "| P2 | closed loop, %d requests in flight on each path: cellgate / direct throughput >= 0.6 "
                        + "| median of %d runs **%.2f** (runs: %s; nginx: median %.2f) | %s |%n", closedInFlight, cg.length, m, list(cg),
                median(ng), m >= 0.6 ? "met" : String.format(Locale.ROOT, "missed by %.2f", 0.6 - m));
    }

    private String closedSection() {
        if (closedSteps.isEmpty()) {
            return "";
        }
        StringBuilder md = new StringBuilder();
        md.append("## Closed loop: ").append(closedInFlight).append(" requests in flight on each path\n\n")
                .append("Each path in turn with the same ").append(closedInFlight).append(" requests in flight (")
                .append(closedInFlight / connections).append(" on each of its ").append(connections)
                .append(" connections; the next request leaves when one is answered), ").append(stepDuration.toSeconds())
                .append(" s each, ").append(closedSteps.size() / PATHS.size())
                .append(" runs. Latency from the actual send; throughput over direct's in the same run.\n\n")
                .append("| run | path | OK/s | / direct | p50 | p99 | CPU AO | CPU proxy | CPU generator |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < closedSteps.size(); i++) {
            Step s = closedSteps.get(i);
            double direct = closedSteps.get(i - i % PATHS.size()).okPerSecond();
            md.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %.2f | %.2f | %.2f | %.1f | %s | %.1f |%n", i / PATHS.size() + 1,
                    s.path(), s.okPerSecond(), direct == 0 ? 0 : s.okPerSecond() / direct, s.ms(50), s.ms(99), s.aoCpuUs(),
                    proxyCpuText(s), s.generatorCpuUs()));
        }
        md.append('\n');
        return md.toString();
    }

    /**
     * The warm-up rounds: what a JVM costs while it compiles (the first round) and after it has seen
     * connections come and go (the last), beside nginx, which needs no warm-up.
     */
    private String warmUpTable() {
        if (warmUpSteps.isEmpty()) {
            return "";
        }
        StringBuilder t = new StringBuilder("\n## Warm-up (not judged)\n\nEach round opens new connections on every path; CPU in µs per OK "
                + "request, cellgate's with its JIT compiler threads' part in brackets.\n\n| round | path | OK/s | failed | p99 | CPU proxy |\n"
                + "|---|---|---|---|---|---|\n");
        for (int i = 0; i < warmUpSteps.size(); i++) {
            Step s = warmUpSteps.get(i);
            t.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %,d | %.2f | %s |%n", i / PATHS.size() + 1, s.path(), s.okPerSecond(),
                    s.failed(), s.ms(99), proxyCpuText(s)));
        }
        return t.toString();
    }

    /** A step's proxy CPU per request for the tables: "-" for direct, cellgate's with its JIT part in brackets. */
    private static String proxyCpuText(Step s) {
        return switch (s.path()) {
            case "direct" -> "-";
            case "cellgate" -> String.format(Locale.ROOT, "%.1f (JIT %.1f)", s.proxyCpuUs(), s.proxyJitCpuUs());
            default -> String.format(Locale.ROOT, "%.1f", s.proxyCpuUs());
        };
    }

    private static String orAny(String cpus) {
        return cpus.isEmpty() ? "any" : cpus;
    }

    private static String list(double[] values) {
        return String.join(", ", Arrays.stream(values).mapToObj(v -> String.format(Locale.ROOT, "%.2f", v)).toList());
    }

    private static String added(Step s, Step direct, double percentile) {
        if (s.path().equals("direct") || direct == null) {
            return "-";
        }
        return String.format(Locale.ROOT, "%+.2f", s.ms(percentile) - direct.ms(percentile));
    }

    private static Step find(List<Step> steps, String path, double offered) {
        return steps.stream().filter(s -> s.path().equals(path) && s.offered() == offered).findFirst().orElse(null);
    }

    private static List<Integer> defaultRates() {
        return List.of(2000, 4000, 6000, 8000, 10000, 12000, 14000, 16000, 18000, 20000, 24000, 28000, 32000, 36000, 40000, 48000);
    }

    private static String join(List<Integer> values) {
        return String.join(",", values.stream().map(String::valueOf).toList());
    }

    private static String nginxVersion() {
        try {
            String v = Procs.run(nginxBinary(), "-v").trim();
            return v.substring(v.indexOf('/') + 1);
        } catch (IOException | InterruptedException e) {
            return "?";
        }
    }
}
