package io.cellgate.perf.harness;

import io.cellgate.perf.load.Scrape;
import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import java.io.IOException;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A reconnect storm: while a set of already-connected clients sends a steady load, as many new
 * clients as the gateway's open-file limit allows connect and log in at once, from several generator
 * processes over loopback source addresses, retrying after every refusal as real clients do. The
 * gateway's accept and login limits must hold (refusals counted), the connected clients must stay
 * served (their latency before and during the storm), and every storm client must get in.
 *
 * <p>{@code perf/run storm [--clients max] [--processes 2] [--accept-rate 2000] [--login-rate 2000] [--out FILE]}
 */
public final class StormScenario {
    /** What the storm did. */
    record Outcome(int clients, int loggedIn, long refusals, long allInMillis, LoadGenerator.Result before,
                   LoadGenerator.Result during, long gatewayAcceptsRefused, long gatewayLoginsRefused) {
    }

    private final String clients;
    private final int processes;
    private final int acceptRate;
    private final int loginRate;
    private final Path report;
    private final PrintStream out;
    private final Path dir;

    StormScenario(String clients, int processes, int acceptRate, int loginRate, Path report, PrintStream out) throws IOException {
        this.clients = clients;
        this.processes = processes;
        this.acceptRate = acceptRate;
        this.loginRate = loginRate;
        this.report = report;
        this.out = out;
        this.dir = Files.createTempDirectory("cellgate-storm");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.of("--clients", "max", "--processes", "2", "--accept-rate", "2000",
                "--login-rate", "2000", "--out", "perf/results/storm-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md"));
        new StormScenario(a.get("--clients"), Integer.parseInt(a.get("--processes")), Integer.parseInt(a.get("--accept-rate")),
                Integer.parseInt(a.get("--login-rate")), Path.of(a.get("--out")), System.out).run();
    }

    Outcome run() throws Exception {
        int aoPort = Procs.freePort();
        Path aoLog = dir.resolve("ao.log");
        Process ao = Procs.java(aoLog, List.of("-Xmx512m"), "io.cellgate.perf.ao.SampleAoServer", "--set", "sz-a", "--port",
                Integer.toString(aoPort));
        Process gateway = null;
        List<Process> holders = new ArrayList<>();
        try {
            Procs.awaitPort(aoPort, ao, aoLog);
            int port = Procs.freePort();
            int metricsPort = Procs.freePort();
            Path config = dir.resolve("gateway.yaml");
            String yaml = io.cellgate.perf.DemoCluster.replaceOnce(HopScenario.gatewayYaml(port, aoPort), "metrics: off", "metrics: 127.0.0.1:" + metricsPort);
            yaml = io.cellgate.perf.DemoCluster.replaceOnce(yaml, "accept-rate: 100000", "accept-rate: " + acceptRate);
            Files.writeString(config, io.cellgate.perf.DemoCluster.replaceOnce(yaml, "login-rate: 100000", "login-rate: " + loginRate));
            Path log = dir.resolve("gatewayd.log");
            gateway = Procs.java(log, List.of("-Xms1g", "-Xmx1g", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"),
                    "io.cellgate.server.Gatewayd", "--config", config.toString());
            Procs.awaitLine(log, "gatewayd: listening on port", gateway);
            int total = clients.equals("max")
                    ? (int) (Procs.openFileLimit(gateway.pid()) - Procs.openFiles(gateway.pid()) - ConnsScenario.FD_MARGIN - 100)
                    : Integer.parseInt(clients);

            // The connected clients: 50 connections at 500 requests/s, measured before and during the storm.
            LoadGenerator.Options steady = new LoadGenerator.Options("127.0.0.1", port, List.of("127.0.0.1"), 50, 500,
                    Duration.ofSeconds(5), HopScenario.SECRET.getBytes(StandardCharsets.UTF_8), 1_000_000_000L,
                    List.of(new CommandMix(1, CommandMix.Kind.ECHO, false, 1)), 64, 1);
            out.println("connected clients, warming up, then before the storm:");
            new LoadGenerator(steady).run(new PrintStream(java.io.OutputStream.nullOutputStream()));
            LoadGenerator.Result before = new LoadGenerator(steady).run(out);

            ExecutorService background = Executors.newSingleThreadExecutor();
            Future<LoadGenerator.Result> during = background.submit(() -> new LoadGenerator(new LoadGenerator.Options(
                    steady.host(), steady.port(), steady.sources(), steady.connections(), steady.ratePerSecond(), Duration.ofSeconds(20),
                    steady.secret(), steady.uidBase() + 1000, steady.mix(), steady.payloadBytes(), 1)).run(new PrintStream(
                    java.io.OutputStream.nullOutputStream())));
            Thread.sleep(2_000);
            out.printf("storm: %,d clients from %d processes at once%n", total, processes);
            int per = total / processes;
            for (int p = 0; p < processes; p++) {
                int count = p == processes - 1 ? total - per * (processes - 1) : per;
                Path holderLog = dir.resolve("storm-" + p + ".log");
                holders.add(Procs.java(holderLog, List.of("-Xmx768m"), "io.cellgate.perf.harness.ConnectionHolder",
                        "--port", Integer.toString(port), "--count", Integer.toString(count), "--sources", "127.0.0." + (10 + p),
                        "--secret", HopScenario.SECRET, "--uid-base", Integer.toString(1 + p * per), "--connect-rate", "1000000",
                        "--retry", "true"));
            }
            long refusals = 0;
            long allIn = 0;
            int loggedIn = 0;
            for (int p = 0; p < processes; p++) {
                Path holderLog = dir.resolve("storm-" + p + ".log");
                String retryLine = Procs.awaitLine(holderLog, "holder: refused", holders.get(p));
                Matcher m = Pattern.compile("refused (\\d+) times, all in after (\\d+) ms").matcher(retryLine);
                if (m.find()) {
                    refusals += Long.parseLong(m.group(1));
                    allIn = Math.max(allIn, Long.parseLong(m.group(2)));
                }
                Matcher h = Pattern.compile("holding (\\d+)").matcher(Procs.awaitLine(holderLog, "holder: holding", holders.get(p)));
                if (h.find()) {
                    loggedIn += Integer.parseInt(h.group(1));
                }
            }
            LoadGenerator.Result duringResult = during.get();
            background.shutdown();
            Scrape metrics = Scrape.of(metricsPort);
            Outcome o = new Outcome(total, loggedIn, refusals, allIn, before, duringResult,
                    (long) metrics.sum("cellgate_connections_refused_total", ""),
                    (long) metrics.sum("cellgate_logins_total", "result=\"rate_limited\""));
            out.printf(Locale.ROOT, "storm: %,d of %,d logged in after %,d ms, %,d refusals (gateway: %,d accepts and %,d logins"
                            + " refused); connected clients p99 %.2f ms before, %.2f ms during, %,d of %,d answered OK during%n",
                    o.loggedIn(), o.clients(), o.allInMillis(), o.refusals(), o.gatewayAcceptsRefused(), o.gatewayLoginsRefused(),
                    before.latencyMicros().getValueAtPercentile(99) / 1000.0,
                    duringResult.latencyMicros().getValueAtPercentile(99) / 1000.0, duringResult.ok(), duringResult.sent());
            writeReport(o);
            return o;
        } finally {
            for (Process p : holders) {
                p.getOutputStream().close();
            }
            for (Process p : holders) {
                Procs.stop(p);
            }
            Procs.stop(gateway);
            Procs.stop(ao);
        }
    }

    private static String otherCodes(LoadGenerator.Result r) {
        StringBuilder s = new StringBuilder();
        for (int i = 1; i < r.codes().length; i++) {
            if (r.codes()[i] > 0) {
                io.cellgate.protocol.v1.Code code = io.cellgate.protocol.v1.Code.forNumber(i);
                s.append(s.length() == 0 ? "" : ", ").append(code == null ? "code " + i : code.name()).append(' ').append(r.codes()[i]);
            }
        }
        if (r.unanswered() > 0) {
            s.append(s.length() == 0 ? "" : ", ").append("unanswered ").append(r.unanswered());
        }
        return s.length() == 0 ? "none" : s.toString();
    }

    private void writeReport(Outcome o) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Reconnect storm, ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append("\n\n");
        md.append("Machine: ").append(Procs.machine()).append(".\n\n");
        md.append("Command: `perf/run storm --clients ").append(clients).append(" --processes ").append(processes)
                .append(" --accept-rate ").append(acceptRate).append(" --login-rate ").append(loginRate).append("`\n\n");
        md.append("A gatewayd process (accept and login limits ").append(acceptRate).append("/s and ").append(loginRate)
                .append("/s, bursts of a fifth) with a sample AO behind it; 50 connected clients send 500 requests/s; then ")
                .append(String.format(Locale.ROOT, "%,d", o.clients())).append(" clients (the gateway's open-file limit minus what it ")
                .append("needs) connect and log in at once from ").append(processes).append(" generator processes on their own ")
                .append("source addresses, each reconnecting after every refusal when the gateway asked (go_away or LoginAck ")
                .append("RATE_LIMITED, plus up to 0.5 s of jitter), as clients do after an outage.\n\n");
        md.append("| storm clients | logged in | all in after | refusals seen by clients | accepts refused | logins refused |"
                + " connected p50 / p99 / max before (ms) | connected p50 / p99 / max during (ms) | connected OK during | other answers |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|\n");
        md.append(String.format(Locale.ROOT, "| %,d | %,d | %.1f s | %,d | %,d | %,d | %.2f / %.2f / %.2f | %.2f / %.2f / %.2f | %,d of %,d | %s |%n",
                o.clients(), o.loggedIn(), o.allInMillis() / 1000.0, o.refusals(), o.gatewayAcceptsRefused(), o.gatewayLoginsRefused(),
                o.before().latencyMicros().getValueAtPercentile(50) / 1000.0, o.before().latencyMicros().getValueAtPercentile(99) / 1000.0,
                o.before().latencyMicros().getMaxValue() / 1000.0,
                o.during().latencyMicros().getValueAtPercentile(50) / 1000.0, o.during().latencyMicros().getValueAtPercentile(99) / 1000.0,
                o.during().latencyMicros().getMaxValue() / 1000.0, o.during().ok(), o.during().sent(), otherCodes(o.during())));
        Files.createDirectories(report.toAbsolutePath().getParent());
        Files.writeString(report, md.toString());
        out.println("report: " + report);
    }
}
