package io.cellgate.perf.harness;

import io.cellgate.perf.load.Scrape;
import io.cellgate.perf.DemoCluster;
import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Clients that never log in, flooding frames, against one client that did: a gatewayd process with
 * the shipped admission settings and a sample AO; a logged-in client measured alone, then while a
 * {@link PreLoginFlooder} process (from another source network) keeps {@code --flooders} connections
 * flooding, each closed after the few frames allowed before login and coming back after
 * {@code --pause-ms}; for each pause given, one round. The gateway's CPU per closed flooder connection
 * comes from {@code /proc}.
 *
 * <p>{@code perf/run flood [--flooders 40] [--pauses 50,0] [--rate 200] [--seconds 10] [--out FILE]}
 */
public final class FloodScenario {
    /** One round: the measured client before and during, and what the flooders saw. */
    record Round(long pauseMillis, LoadGenerator.Result before, LoadGenerator.Result during, long closed, long answers,
                 long refused, long wrong, double gatewayCpuBefore, double gatewayCpuDuring) {
        double p99Ratio() {
            return (double) during.latencyMicros().getValueAtPercentile(99) / before.latencyMicros().getValueAtPercentile(99);
        }
    }

    private static final Pattern FLOODER = Pattern.compile("closed (\\d+), answers (\\d+), refused (\\d+), wrong (\\d+)");

    private final int flooders;
    private final List<Long> pauses;
    private final int rate;
    private final Duration window;
    private final Path report;
    private final PrintStream out;
    private final Path dir;

    FloodScenario(int flooders, List<Long> pauses, int rate, Duration window, Path report, PrintStream out) throws IOException {
        this.flooders = flooders;
        this.pauses = pauses;
        this.rate = rate;
        this.window = window;
        this.report = report;
        this.out = out;
        this.dir = Files.createTempDirectory("cellgate-flood");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.of("--flooders", "40", "--pauses", "50,0", "--rate", "200", "--seconds", "10",
                "--out", "perf/results/flood-" + LocalDate.now(ZoneOffset.UTC) + ".md"));
        List<Long> pauses = new ArrayList<>();
        for (String p : a.get("--pauses").split(",")) {
            pauses.add(Long.parseLong(p.trim()));
        }
        new FloodScenario(Integer.parseInt(a.get("--flooders")), pauses, Integer.parseInt(a.get("--rate")),
                Duration.ofSeconds(Long.parseLong(a.get("--seconds"))), Path.of(a.get("--out")), System.out).run();
    }

    List<Round> run() throws Exception {
        int aoPort = Procs.freePort();
        Path aoLog = dir.resolve("ao.log");
        Process ao = Procs.java(aoLog, List.of("-Xmx512m"), "io.cellgate.perf.ao.SampleAoServer", "--set", "sz-a", "--port",
                Integer.toString(aoPort));
        Process gateway = null;
        try {
            Procs.awaitPort(aoPort, ao, aoLog);
            int port = Procs.freePort();
            int metricsPort = Procs.freePort();
            Path config = dir.resolve("gateway.yaml");
            Files.writeString(config, gatewayYaml(port, aoPort, metricsPort));
            Path log = dir.resolve("gatewayd.log");
            gateway = Procs.java(log, List.of("-Xms512m", "-Xmx512m", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"),
                    "io.cellgate.server.Gatewayd", "--config", config.toString());
            Procs.awaitLine(log, "gatewayd: listening on port", gateway);
            LoadGenerator.Options measured = new LoadGenerator.Options("127.0.0.1", port, List.of("127.0.0.1"), 1, rate, window,
                    HopScenario.SECRET.getBytes(StandardCharsets.UTF_8), 1, List.of(new CommandMix(1, CommandMix.Kind.ECHO, false, 1)),
                    64, 1);
            out.println("flood: warming up");
            new LoadGenerator(measured).run(new PrintStream(OutputStream.nullOutputStream()));
            List<Round> rounds = new ArrayList<>();
            for (long pause : pauses) {
                rounds.add(round(measured, port, gateway, pause));
            }
            writeReport(rounds, Scrape.of(metricsPort));
            return rounds;
        } finally {
            Procs.stop(gateway);
            Procs.stop(ao);
        }
    }

    /** The shipped admission settings (accept and login rates, per-network share), nothing lifted. */
    static String gatewayYaml(int port, int aoPort, int metricsPort) throws IOException {
        String yaml = DemoCluster.replaceOnce(HopScenario.gatewayYaml(port, aoPort), "metrics: off", "metrics: 127.0.0.1:" + metricsPort);
        yaml = DemoCluster.replaceOnce(yaml, "accept-rate: 100000", "accept-rate: 5000");
        yaml = DemoCluster.replaceOnce(yaml, "login-rate: 100000", "login-rate: 5000");
        yaml = DemoCluster.replaceOnce(yaml, "connection-rate: 1000000", "connection-rate: 2000");
        return DemoCluster.replaceOnce(yaml, "source-share: 1", "source-share: 0.25");
    }

    private Round round(LoadGenerator.Options measured, int port, Process gateway, long pause) throws Exception {
        out.printf("flood: %d flooders coming back %d ms after each close%n", flooders, pause);
        double cpu0 = Procs.cpuSeconds(gateway.pid(), false);
        LoadGenerator.Result before = new LoadGenerator(measured).run(out);
        double cpuBefore = Procs.cpuSeconds(gateway.pid(), false) - cpu0;
        Path flooderLog = dir.resolve("flooder-" + pause + ".log");
        Process flooder = Procs.java(flooderLog, List.of("-Xmx256m"), "io.cellgate.perf.harness.PreLoginFlooder", "--port",
                Integer.toString(port), "--source", "127.0.1.1", "--clients", Integer.toString(flooders), "--pause-ms",
                Long.toString(pause));
        LoadGenerator.Result during;
        double cpuDuring;
        String line;
        try {
            Procs.awaitLine(flooderLog, "flooder: started", flooder);
            Thread.sleep(1_000);
            double cpu1 = Procs.cpuSeconds(gateway.pid(), false);
            during = new LoadGenerator(measured).run(out);
            cpuDuring = Procs.cpuSeconds(gateway.pid(), false) - cpu1;
        } finally {
            flooder.getOutputStream().close();
        }
        line = Procs.awaitLine(flooderLog, "flooder: closed", flooder);
        Procs.stop(flooder);
        Matcher m = FLOODER.matcher(line);
        if (!m.find()) {
            throw new IOException("unexpected flooder report: " + line);
        }
        Round r = new Round(pause, before, during, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)), cpuBefore, cpuDuring);
        out.printf(Locale.ROOT, "flood: pause %d ms: p99 %.2f -> %.2f ms (%.1fx); flooder connections closed %,d, refused %,d, wrong %d%n",
                pause, ms(before, 99), ms(during, 99), r.p99Ratio(), r.closed(), r.refused(), r.wrong());
        return r;
    }

    private static double ms(LoadGenerator.Result r, double percentile) {
        return r.latencyMicros().getValueAtPercentile(percentile) / 1000.0;
    }

    private void writeReport(List<Round> rounds, Scrape metrics) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Pre-login floods: another client's latency, ").append(LocalDate.now(ZoneOffset.UTC)).append("\n\n");
        md.append("Machine: ").append(Procs.machine()).append(".\n\n");
        md.append("Command: `perf/run flood --flooders ").append(flooders).append(" --pauses ")
                .append(String.join(",", pauses.stream().map(String::valueOf).toList())).append(" --rate ").append(rate)
                .append(" --seconds ").append(window.toSeconds()).append("`\n\n");
        md.append("A gatewayd process with the shipped admission settings (accept and login 5,000/s, one source network at most ")
                .append("a quarter of them, 2,000 requests/s per connection) and a sample AO. One logged-in client sends ")
                .append(rate).append(" reads/s (open loop, latency from the intended send time) for ").append(window.toSeconds())
                .append(" s alone, then again while a separate process (source 127.0.1.1, another /24 than the client's) keeps ")
                .append(flooders).append(" connections that never log in: each writes 50 pings at once, reads until the gateway ")
                .append("closes it (8 answers, then go_away) and connects again after the pause. Gateway CPU from /proc.\n\n");
        md.append("| flooders come back after | flooder connections closed | of them refused at accept | over the allowed answers |"
                + " client p50 before / during (ms) | client p99 before / during (ms) | p99 during / before | client max during (ms) |"
                + " client OK during | gateway CPU before / during (s) | gateway CPU per flooder connection |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Round r : rounds) {
            md.append(String.format(Locale.ROOT, "| %d ms | %,d | %,d | %d | %.2f / %.2f | %.2f / %.2f | %.2fx | %.2f | %,d of %,d | %.2f / %.2f | %.0f µs |%n",
                    r.pauseMillis(), r.closed(), r.refused(), r.wrong(), ms(r.before(), 50), ms(r.during(), 50), ms(r.before(), 99),
                    ms(r.during(), 99), r.p99Ratio(), r.during().latencyMicros().getMaxValue() / 1000.0, r.during().ok(),
                    r.during().sent(), r.gatewayCpuBefore(), r.gatewayCpuDuring(),
                    r.closed() == 0 ? 0 : (r.gatewayCpuDuring() - r.gatewayCpuBefore()) * 1e6 / r.closed()));
        }
        md.append(String.format(Locale.ROOT, "%nGateway counters at the end: connections refused %,.0f, bad frames %,.0f.%n",
                metrics.sum("cellgate_connections_refused_total", ""), metrics.sum("cellgate_bad_frames_total", "")));
        Files.createDirectories(report.toAbsolutePath().getParent());
        Files.writeString(report, md.toString());
        out.println("report: " + report);
    }
}
