package io.cellgate.perf;

import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import io.cellgate.server.GatewayServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Runs the same open-loop load through a gateway in each upstream channel mode and reports latency
 * from the intended send time and the gateway's own CPU time per request (the CPU time of its
 * {@code cellgate-} threads, which also carry its gRPC channels), alternating the modes over several
 * rounds so drift of the machine affects both.
 *
 * <p>{@code ChannelModeComparison SECONDS RATE CONNECTIONS ROUNDS OUTPUT.md}
 */
public final class ChannelModeComparison {
    private static final String[] MODES = {"lean", "per-event-loop", "shared"};

    private ChannelModeComparison() {
    }

    private record Row(String mode, int round, long answered, long ok, double seconds, Histogram latency, double cpuMicrosPerRequest,
                       double handoffsPerRequest) {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        double rate = args.length > 1 ? Double.parseDouble(args[1]) : 5000;
        int connections = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        Path output = Path.of(args.length > 4 ? args[4] : "perf/results/channel-mode.md");
        List<Row> rows = new ArrayList<>();
        try (DemoCluster cluster = new DemoCluster(Path.of("conf/gateway.yaml"))) {
            // JIT warm-up of the whole process (AOs, load generator, gateway code) before any measured run.
            try (GatewayServer gateway = cluster.startGateway(yaml -> yaml)) {
                Demo.warmUp(gateway.port(), cluster.secret(), connections, rate, Duration.ofSeconds(15));
            }
            for (int round = 1; round <= rounds; round++) {
                for (String mode : MODES) {
                    try (GatewayServer gateway = cluster.startGateway(yaml -> withMode(yaml, mode))) {
                        Demo.warmUp(gateway.port(), cluster.secret(), 10, rate / 2, Duration.ofSeconds(5));
                        long cpuBefore = gatewayCpuNanos();
                        long handoffsBefore = gateway.eventLoopHandoffs();
                        LoadGenerator.Result r = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(),
                                List.of("127.0.0.1"), connections, rate, Duration.ofSeconds(seconds), cluster.secret(), 1_000_000,
                                CommandMix.demo(), 64, 1)).run(System.out);
                        long cpu = gatewayCpuNanos() - cpuBefore;
                        long handoffs = gateway.eventLoopHandoffs() - handoffsBefore;
                        Row row = new Row(mode, round, r.answered(), r.ok(), r.seconds(), r.latencyMicros(), cpu / 1000.0 / r.answered(),
                                (double) handoffs / r.answered());
                        rows.add(row);
                        System.out.println(line(row));
                    }
                }
            }
        }
        write(output, rows, seconds, rate, connections, rounds);
    }

    private static String withMode(String yaml, String mode) {
        String next = yaml.replaceFirst("(?m)^  channel-mode: \\S+", "  channel-mode: " + mode);
        if (next.equals(yaml) && !yaml.contains("  channel-mode: " + mode)) {
            throw new IllegalStateException("conf/gateway.yaml has no upstream.channel-mode line to set");
        }
        return next;
    }

    /** CPU time of the gateway's threads (accept loop and event loops, which carry the gRPC channels too). */
    private static long gatewayCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("cellgate-")) {
                long t = threads.getThreadCpuTime(info.getThreadId());
                if (t > 0) {
                    total += t;
                }
            }
        }
        return total;
    }

    private static String line(Row r) {
        Histogram h = r.latency();
        return String.format("| %s | %d | %,d | %,d | %.2f | %.2f | %.2f | %.2f | %.1f | %.2f |", r.mode(), r.round(), r.answered(), r.ok(),
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getValueAtPercentile(99.9) / 1000.0,
                h.getMaxValue() / 1000.0, r.cpuMicrosPerRequest(), r.handoffsPerRequest());
    }

    private static void write(Path output, List<Row> rows, int seconds, double rate, int connections, int rounds) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Upstream channel mode: lean vs per-event-loop vs shared\n\n");
        md.append("Date: ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append(". Machine: ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores, ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                .append(", Java ").append(System.getProperty("java.version")).append(".\n\n");
        md.append("Command: `perf/run-channel-mode.sh ").append(seconds).append(' ').append((long) rate).append(' ')
                .append(connections).append(' ').append(rounds).append("`. One JVM runs the four sample AOs of `conf/gateway.yaml`, the gateway (2 event loops) ")
                .append("and the open-loop load generator (1 event loop), so all share the machine's cores. Each run: ")
                .append(connections).append(" connections, ").append((long) rate).append(" req/s for ").append(seconds)
                .append(" s (20% Echo, 40% Get, 40% Put), after a 15 s warm-up of the process and a 5 s warm-up of each gateway. Latency is from the intended send time (ms); ")
                .append("CPU is the gateway's own threads' CPU time per answered request (us); hand-offs are tasks given to the gateway's ")
                .append("event loops by other threads (`cellgate_event_loop_handoffs`), per answered request.\n\n");
        md.append("| mode | round | answered | OK | p50 | p99 | p99.9 | max | gateway CPU us/req | hand-offs/req |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            md.append(line(r)).append('\n');
        }
        Files.createDirectories(output.toAbsolutePath().getParent());
        Files.writeString(output, md.toString(), StandardCharsets.UTF_8);
        System.out.println("wrote " + output);
    }
}
