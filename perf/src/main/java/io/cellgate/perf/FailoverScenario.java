package io.cellgate.perf;

import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import io.cellgate.protocol.v1.Code;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Set failover with real AO processes: three sample AO processes (sets sz-a and sz-b in the
 * gateway's city, sh-a in another), the gateway on loopback, and steady open-loop load of reads and
 * writes. Midway the process of sz-a is killed (SIGKILL); later it is started again on its port.
 * Reports the time from the kill until the set is DOWN (no request goes to it after that), the reads
 * lost, what writes got, and the state changes (no flapping).
 *
 * <p>{@code FailoverScenario RATE SECONDS OUTPUT.md}
 */
public final class FailoverScenario {
    private FailoverScenario() {
    }

    private static Process ao(String set, int port, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "io.cellgate.perf.ao.SampleAoServer",
                "--set", set, "--port", Integer.toString(port), "--stats")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void awaitPort(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IOException("sample AO did not start on port " + port);
    }

    public static void main(String[] args) throws Exception {
        double rate = args.length > 0 ? Double.parseDouble(args[0]) : 2000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path output = Path.of(args.length > 2 ? args[2] : "perf/results/set-failover-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md");
        String channelMode = args.length > 3 ? args[3] : "lean";
        Path dir = Files.createTempDirectory("cellgate-failover");
        String[] sets = {"sz-a", "sz-b", "sh-a"};
        int[] ports = {freePort(), freePort(), freePort()};
        List<Process> aos = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            aos.add(ao(sets[i], ports[i], dir.resolve("ao-" + sets[i] + ".log")));
        }
        for (int port : ports) {
            awaitPort(port);
        }
        byte[] secretBytes = new byte[24];
        new SecureRandom().nextBytes(secretBytes);
        String secret = HexFormat.of().formatHex(secretBytes);
        int metricsPort = freePort();
        String yaml = """
                gateway: {city: sz, idc: sz-1}
                listen: {client: 127.0.0.1:0, metrics: 127.0.0.1:%d}
                login: {token-secret: %s}
                topology:
                  sets:
                    - {name: sz-a, city: sz, idc: sz-1, endpoints: [127.0.0.1:%d]}
                    - {name: sz-b, city: sz, idc: sz-2, endpoints: [127.0.0.1:%d]}
                    - {name: sh-a, city: sh, idc: sh-1, endpoints: [127.0.0.1:%d]}
                routes:
                  write-points: [{slots: 0-8191, set: sz-a}, {slots: 8192-16383, set: sh-a}]
                commands:
                  - {cmd: 2, method: cellgate.sample.v1.SampleAo/Get, route: READ, timeout: 1s}
                  - {cmd: 3, method: cellgate.sample.v1.SampleAo/Put, route: WRITE, timeout: 1s}
                upstream:
                  channel-mode: %s
                  health: {interval: 100ms, timeout: 500ms, recovery: 2s}
                admission: {connection-rate: 0}
                access-log: {file: %s, sample: 1}
                """.formatted(metricsPort, secret, ports[0], ports[1], ports[2], channelMode, dir.resolve("access.log"));
        GatewayConfig config = GatewayConfig.parse(yaml, Path.of("."), name -> null);
        List<CommandMix> mix = List.of(new CommandMix(2, CommandMix.Kind.GET, false, 0.5), new CommandMix(3, CommandMix.Kind.PUT, true, 0.5));
        byte[] secretUtf8 = secret.getBytes(StandardCharsets.UTF_8);
        StringBuilder events = new StringBuilder();
        try (GatewayServer gateway = GatewayServer.start(config)) {
            new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(), List.of("127.0.0.1"), 20, rate / 2,
                    Duration.ofSeconds(5), secretUtf8, 5_000_000, mix, 32, 1)).run(new PrintStream(OutputStream.nullOutputStream()));
            // Verdicts of the warm-up (three AO JVMs, the gateway and the load starting at once on a small host
            // can time out the first checks) are reported apart from the failover's own.
            long warmUpChanges = gateway.healthChanges();
            java.time.LocalTime measuredFrom = java.time.LocalTime.now(java.time.ZoneOffset.UTC).withNano(0);
            LoadGenerator load = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(), List.of("127.0.0.1"), 100,
                    rate, Duration.ofSeconds(seconds), secretUtf8, 1_000_000, mix, 32, 1));
            Thread controller = new Thread(() -> {
                try {
                    Thread.sleep(seconds * 1000L / 4);
                    long killed = System.nanoTime();
                    aos.get(0).destroyForcibly();
                    while (state(gateway) != SetState.DOWN && System.nanoTime() - killed < 10_000_000_000L) {
                        Thread.sleep(1);
                    }
                    events.append(String.format("- sz-a killed (SIGKILL) at %d s; DOWN in the gateway after **%d ms**: from then on no "
                            + "request goes to it (reads already skipped it once its endpoint was ejected); stored route epoch %d%n",
                            seconds / 4, (System.nanoTime() - killed) / 1_000_000, gateway.routes().current().epoch()));
                    Thread.sleep(seconds * 1000L / 4);
                    long restarted = System.nanoTime();
                    aos.set(0, ao("sz-a", ports[0], dir.resolve("ao-sz-a.log")));
                    while (state(gateway) != SetState.UP && System.nanoTime() - restarted < 20_000_000_000L) {
                        Thread.sleep(5);
                    }
                    events.append(String.format("- sz-a restarted at %d s; UP again after %d ms (JVM start + 2 s of passing checks; stored "
                            + "route epoch %d)%n",
                            seconds / 2, (System.nanoTime() - restarted) / 1_000_000, gateway.routes().current().epoch()));
                } catch (Exception e) {
                    events.append("- controller failed: ").append(e).append('\n');
                }
            });
            controller.start();
            LoadGenerator.Result r = load.run(System.out);
            controller.join();
            long finalEpoch = gateway.routes().current().epoch();
            long[] reads = r.codesByCmd().getOrDefault(2, new long[64]);
            long[] writes = r.codesByCmd().getOrDefault(3, new long[64]);
            StringBuilder md = new StringBuilder("# Set failover with real AO processes\n\n");
            md.append("Date: ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append(". Machine: ").append(Runtime.getRuntime().availableProcessors())
                    .append(" cores, Java ").append(System.getProperty("java.version")).append(".\n\n");
            md.append("Command: `perf/run-failover.sh ").append((long) rate).append(' ').append(seconds)
                    .append(channelMode.equals("lean") ? "" : " " + channelMode).append("`. Three sample AO ")
                    .append("processes (sets sz-a, sz-b in the gateway's city sz, sh-a in sh), the gateway (`upstream.channel-mode: ")
                    .append(channelMode).append("`, health checks every 100 ms, ")
                    .append("recovery after 2 s of passing checks, FAIL write failover) and the open-loop load generator (100 connections, ")
                    .append((long) rate).append(" req/s, half reads half writes, users' write points half in sz-a, half in sh-a).\n\n");
            md.append(events);
            md.append(String.format("- health verdict changes during the run: %d (DOWN once, UP once means no flapping), and %d in the "
                    + "warm-up before it; stored route epoch 1 -> %d (health verdicts are the gateway's own and are never stored)%n%n",
                    gateway.healthChanges() - warmUpChanges, warmUpChanges, finalEpoch));
            md.append(String.format("| | sent | OK | lost (not OK) | codes |%n|---|---:|---:|---:|---|%n"));
            md.append(row("reads", reads)).append(row("writes", writes));
            md.append(lostReads(metricsPort, dir.resolve("access.log")));
            md.append(slowAnswers(dir, sets, measuredFrom));
            md.append(String.format("%nunanswered: %d; latency from intended send (all answers): p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                    r.unanswered(), r.latencyMicros().getValueAtPercentile(50) / 1000.0,
                    r.latencyMicros().getValueAtPercentile(99) / 1000.0, r.latencyMicros().getMaxValue() / 1000.0));
            md.append("\nReads that fail on the dead set are retried once on the nearest other set (sz-b); once its endpoint is ")
                    .append("ejected they go there directly, and after the set is DOWN in the gateway so do they all. Writes of its users ")
                    .append("are answered by the FAIL policy: UPSTREAM_UNAVAILABLE before the set is DOWN (not retried: at most once), ")
                    .append("NO_ROUTE after.\n");
            Files.createDirectories(output.toAbsolutePath().getParent());
            Files.writeString(output, md.toString(), StandardCharsets.UTF_8);
            System.out.println(md);
        } finally {
            for (Process p : aos) {
                p.destroyForcibly();
            }
        }
    }

    /**
     * The retries, from the gateway's metrics; and the access log's lines of reads not answered OK,
     * grouped by code, set, AO status and second.
     */
    private static String lostReads(int metricsPort, Path accessLog) throws Exception {
        io.cellgate.perf.load.Scrape metrics = io.cellgate.perf.load.Scrape.of(metricsPort);
        long logged = (long) (metrics.sum("cellgate_access_log_written_total", "") + metrics.sum("cellgate_access_log_dropped_total", ""));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.readAllLines(accessLog, StandardCharsets.UTF_8).size() < logged && System.nanoTime() < deadline) {
            Thread.sleep(50); // the writer drains its ring
        }
        java.util.Map<String, Integer> groups = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(accessLog, StandardCharsets.UTF_8)) {
            // The measured load's users only (uids from 1,000,000; the warm-up's from 5,000,000).
            java.util.regex.Matcher uid = UID.matcher(line);
            if (line.contains("\"cmd\":2,") && !line.contains("\"code\":\"OK\"") && uid.find()
                    && Long.parseLong(uid.group(1)) < 5_000_000) {
                groups.merge(field(line, "code") + " set " + field(line, "set") + " ao_status " + field(line, "ao_status")
                        + " at " + field(line, "time").substring(11, 19), 1, Integer::sum);
            }
        }
        StringBuilder md = new StringBuilder(String.format("%nretries on another set: %.0f; retryable failures not retried (budget, no "
                + "other set, no time, limit): %.0f; requests refused by a set's concurrency limit (of the shed): %.0f; reads a set's "
                + "limit had no room for, served by the next set of the city: %.0f; sets' limits cut for a stall (calls waiting half their "
                + "time): %.0f%n",
                metrics.sum("cellgate_retries_total", ""), metrics.sum("cellgate_retries_refused_total", ""),
                metrics.sum("cellgate_set_limit_refused_total", ""), metrics.sum("cellgate_reads_spilled_total", ""),
                metrics.sum("cellgate_set_limit_stalls_total", "")));
        md.append("\nReads not answered OK, from the access log (code, set of the last attempt, its gRPC status, second):\n\n");
        if (groups.isEmpty()) {
            md.append("- none\n");
        }
        groups.forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
        md.append(String.format("(access log: %.0f lines written, %.0f dropped)%n", metrics.sum("cellgate_access_log_written_total", ""),
                metrics.sum("cellgate_access_log_dropped_total", "")));
        return md.toString();
    }

    /**
     * The seconds in which an AO took half the commands' 1 s timeout or more to answer a call, as the AO
     * process measured it (arrival to answer): calls that time out at the gateway for the AO's sake.
     */
    private static String slowAnswers(Path dir, String[] sets, java.time.LocalTime measuredFrom) throws IOException {
        StringBuilder md = new StringBuilder("\nSeconds in which an AO took 0.5 s or more to answer a call, as the AO process measured it ")
                .append("(from the call's arrival to its answer; the measured run started at ").append(measuredFrom)
                .append(", earlier seconds are the warm-up's):\n\n");
        int n = 0;
        for (String set : sets) {
            for (String line : Files.readAllLines(dir.resolve("ao-" + set + ".log"), StandardCharsets.UTF_8)) {
                java.util.regex.Matcher m = SLOWEST.matcher(line);
                if (line.startsWith("stats ") && m.find() && Long.parseLong(m.group(1)) >= 500) {
                    md.append("- ").append(line.substring("stats ".length())).append('\n');
                    n++;
                }
            }
        }
        return n == 0 ? md.append("- none\n").toString() : md.toString();
    }

    private static final java.util.regex.Pattern SLOWEST = java.util.regex.Pattern.compile("slowest (\\d+) ms");

    private static final java.util.regex.Pattern UID = java.util.regex.Pattern.compile("\"uid\":(\\d+)");

    private static String field(String jsonLine, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(jsonLine);
        return m.find() ? m.group(1) : "-";
    }

    /** sz-a's state as requests see it: the stored state with this gateway's health verdict applied. */
    private static SetState state(GatewayServer gateway) {
        RouteTable t = gateway.routing();
        return t.set(t.indexOf("sz-a")).state();
    }

    private static String row(String what, long[] codes) {
        long total = 0;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < codes.length; i++) {
            total += codes[i];
            if (codes[i] > 0) {
                Code c = Code.forNumber(i);
                text.append(text.length() == 0 ? "" : ", ").append(c == null ? "code" + i : c.name()).append(' ').append(codes[i]);
            }
        }
        return String.format("| %s | %d | %d | %d | %s |%n", what, total, codes[Code.OK_VALUE], total - codes[Code.OK_VALUE], text);
    }

}
