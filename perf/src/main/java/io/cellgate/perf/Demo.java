package io.cellgate.perf;

import io.cellgate.perf.ao.SampleAoServer;
import io.cellgate.perf.load.CommandMix;
import io.cellgate.perf.load.LoadGenerator;
import io.cellgate.perf.load.LoadReport;
import io.cellgate.protocol.v1.Code;
import io.cellgate.server.GatewayServer;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;


/**
 * {@code bin/demo}: starts the sample AOs of four sets in two cities, a gateway on the shipped
 * {@code conf/gateway.yaml} (with the AOs' actual ports and a fresh token secret), and a load client
 * with a live progress line; after {@code --duration} prints requests, codes, latency percentiles and
 * which sets served reads and writes. Exits 0 when reads and writes were served, every request was
 * answered and at most 1% failed (answers shed for overload are defined answers, reported apart).
 *
 * <p>{@code Demo [--duration 30s] [--connections 40] [--rate 2000] [--config conf/gateway.yaml]}
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        Duration duration = Duration.ofSeconds(30);
        int connections = 40;
        double rate = 2000;
        Path template = Path.of("conf/gateway.yaml");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--duration" -> duration = parseDuration(args[++i]);
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--rate" -> rate = Double.parseDouble(args[++i]);
                case "--config" -> template = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: demo [--duration 30s] [--connections 40] [--rate 2000] [--config conf/gateway.yaml]");
                    System.exit(2);
                }
            }
        }
        System.exit(run(template, duration, connections, rate).passed() ? 0 : 1);
    }

    /**
     * What one demo run saw. {@code failed} counts answers other than OK and the overload answers
     * (shedding is a defined answer: a cold JVM on a small machine can look overloaded for a moment,
     * and the gateway protects itself); {@code healthChanges} counts the gateway's set health verdict
     * changes, which a run against healthy sample AOs should never cause.
     */
    public record Outcome(boolean readsServed, boolean writesServed, long answered, long unanswered, long loginFailures,
                          long failed, long shed, long noRoute, long healthChanges, long pushes) {
        /** The demo's verdict: reads and writes served, pushes received, every request answered, at most 1% failed. */
        public boolean passed() {
            return readsServed && writesServed && pushes > 0 && unanswered == 0 && loginFailures == 0 && failed <= answered / 100;
        }
    }

    /** Runs the demo and prints its report and verdict. */
    public static Outcome run(Path template, Duration duration, int connections, double rate) throws Exception {
        try (DemoCluster cluster = new DemoCluster(template);
             GatewayServer gateway = cluster.startGateway(UnaryOperator.identity())) {
            for (SampleAoServer ao : cluster.aos()) {
                System.out.printf("sample AO of set %s on 127.0.0.1:%d%n", ao.setName(), ao.port());
            }
            System.out.printf("gateway (city %s) on 127.0.0.1:%d, %s transport; %d connections at %.0f req/s for %ds%n",
                    gateway.config().city(), gateway.port(), gateway.nativeTransport() ? "epoll" : "nio", connections, rate,
                    duration.toSeconds());
            // A short warm-up first: class loading, JIT compilation and the first gRPC connections
            // would otherwise dominate the first seconds of a short run.
            System.out.println("warming up for 5s (not counted)...");
            warmUp(gateway.port(), cluster.secret(), Math.min(connections, 10), rate / 2, Duration.ofSeconds(5));
            LoadGenerator load = new LoadGenerator(new LoadGenerator.Options("127.0.0.1", gateway.port(),
                    List.of("127.0.0.1"), connections, rate, duration, cluster.secret(), 1_000_000, CommandMix.demoWithPushes(), 64, 1));
            LoadGenerator.Result result = load.run(System.out);
            LoadReport.print(result, System.out);
            System.out.printf("pushes: %,d received (cmd 5 asks the sample AO to push a line back to its caller)%n", result.pushes());
            boolean reads = result.servedBy().keySet().stream().anyMatch(k -> k.startsWith("read "));
            boolean writes = result.servedBy().keySet().stream().anyMatch(k -> k.startsWith("write "));
            long shed = result.codes()[Code.SHED_OVERLOAD_VALUE] + result.codes()[Code.DROPPED_OVERLOAD_VALUE];
            long failed = result.answered() - result.codes()[Code.OK_VALUE] - shed;
            Outcome outcome = new Outcome(reads, writes, result.answered(), result.unanswered(), result.loginFailures(),
                    failed, shed, result.codes()[Code.NO_ROUTE_VALUE], gateway.healthChanges(), result.pushes());
            System.out.println(outcome.passed() ? "demo: OK, reads and writes served, nothing lost"
                    : "demo: FAILED (reads served: " + reads + ", writes served: " + writes + ", pushes: " + result.pushes() + ", failed: " + failed
                    + ", shed: " + shed + ", unanswered: " + result.unanswered() + ")");
            return outcome;
        }
    }

    /** Sends load that is not reported, so the JIT and the connections are warm. */
    static void warmUp(int port, byte[] secret, int connections, double rate, Duration duration) throws InterruptedException {
        new LoadGenerator(new LoadGenerator.Options("127.0.0.1", port, List.of("127.0.0.1"), connections, rate, duration,
                secret, 2_000_000, CommandMix.demo(), 64, 1)).run(new PrintStream(OutputStream.nullOutputStream()));
    }

    static Duration parseDuration(String s) {
        String t = s.trim();
        if (t.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        if (t.endsWith("m")) {
            return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        if (t.endsWith("s")) {
            return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        return Duration.ofSeconds(Long.parseLong(t));
    }
}
