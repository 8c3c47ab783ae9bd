package io.cellgate.perf.harness;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.admin.v1.SharedSettings;
import io.cellgate.route.CellSet;
import io.cellgate.route.Locality;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.cellgate.server.config.FleetConfig;
import io.cellgate.server.fleet.EtcdFleet;
import io.cellgate.server.fleet.EtcdRouteStore;
import io.cellgate.server.fleet.EtcdSettingsStore;
import io.cellgate.server.fleet.FleetMembership;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.EtcdProcess;
import io.cellgate.testkit.StartsProcesses;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet simulated on one machine: one real etcd and many gateways in this JVM, each with what a
 * gatewayd process has towards etcd (its own etcd client, route store and engine with the local
 * copy, shared settings store, registration on a lease renewed every lease-ttl/3) and no client
 * listener. Route and settings changes are made through random gateways, one at a time, and timed
 * until every other gateway has published them; etcd's CPU and bytes are read from /proc and its
 * metrics; one gateway is restarted and etcd is restarted.
 *
 * <p>{@code -Dsim.gateways=10,50,100} (default 5), {@code -Dsim.routeChanges=N} (20),
 * {@code -Dsim.settingsChanges=N} (6), {@code -Dsim.restSeconds=N} (1: how long the fleet at rest is
 * measured), {@code -Dsim.missedChanges=N} (10: made while one gateway is stopped),
 * {@code -Dsim.etcdTimeoutMillis=N} (1000) and {@code -Dsim.probeMillis=N} (200: each gateway's etcd timeout and
 * probe interval), {@code -Dsim.report=FILE} (a report and its plots beside it): {@code perf/run-fleet-sim.sh}.
 */
@StartsProcesses
class FleetSimulationTest {
    private static final int SLOTS = 16384;
    private static final String[] SETS = {"sz-a", "sz-b", "sh-a", "sh-b"};

    /** When each simulated gateway published each epoch, in nanoTime; 0 until it did. */
    static final class Arrivals {
        private final int gateways;
        private final ConcurrentHashMap<Long, AtomicLongArray> byEpoch = new ConcurrentHashMap<>();

        Arrivals(int gateways) {
            this.gateways = gateways;
        }

        void record(int gateway, long epoch) {
            long now = System.nanoTime();
            byEpoch.computeIfAbsent(epoch, e -> new AtomicLongArray(gateways)).compareAndSet(gateway, 0, now);
        }

        /** Waits until every gateway but {@code writer} (and those {@code absent}) has {@code epoch}; their times after {@code from}. */
        long[] await(long epoch, int writer, long from, boolean[] absent) {
            AtomicLongArray times = byEpoch.computeIfAbsent(epoch, e -> new AtomicLongArray(gateways));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                int missing = 0;
                for (int i = 0; i < gateways; i++) {
                    if (i != writer && !absent[i] && times.get(i) == 0) {
                        missing++;
                    }
                }
                if (missing == 0) {
                    break;
                }
                assertThat(System.nanoTime()).as(missing + " gateways never published epoch " + epoch).isLessThan(deadline);
                Thread.onSpinWait();
                try {
                    Thread.sleep(0, 200_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            long[] after = new long[gateways - 1 - count(absent)];
            int k = 0;
            for (int i = 0; i < gateways; i++) {
                if (i != writer && !absent[i]) {
                    after[k++] = Math.max(0, times.get(i) - from);
                }
            }
            byEpoch.remove(epoch);
            return after;
        }

        private static int count(boolean[] flags) {
            int n = 0;
            for (boolean f : flags) {
                n += f ? 1 : 0;
            }
            return n;
        }
    }

    /** One simulated gateway: a gatewayd's etcd client, stores, engine and registration, no listener. */
    static final class SimGateway implements AutoCloseable {
        final EtcdFleet fleet;
        final EtcdRouteStore routes;
        final RouteEngine engine;
        final EtcdSettingsStore settings;
        final FleetMembership membership;

        SimGateway(int index, String etcdUrl, String prefix, Path dir, Arrivals routeArrivals, Arrivals settingsArrivals)
                throws IOException {
            fleet = new EtcdFleet(new FleetConfig(List.of(etcdUrl), prefix, null, Duration.ofSeconds(3),
                    Duration.ofMillis(Integer.getInteger("sim.etcdTimeoutMillis", 1000)),
                    Duration.ofMillis(Integer.getInteger("sim.probeMillis", 200)), new FleetConfig.Security(null, null, null, null, null)));
            routes = new EtcdRouteStore(fleet, dir);
            engine = new RouteEngine(routes.boot(seed()), routes);
            engine.addListener(t -> routeArrivals.record(index, t.epoch()));
            routes.start(engine);
            settings = new EtcdSettingsStore(fleet, dir);
            settings.boot(SharedSettings.newBuilder().setEpoch(1).setDegrade("none").setChange("seeded").build());
            settings.start(s -> settingsArrivals.record(index, s.getEpoch()));
            membership = new FleetMembership(fleet, "10.0." + (index / 250) + "." + (index % 250) + ":7000", "sz", "sz1",
                    () -> "load=0.00 connections=0 epoch=" + engine.current().epoch(), alternates -> { });
            engine.addListener(t -> membership.publishSoon());
            fleet.startProbe();
        }

        @Override
        public void close() {
            membership.close();
            settings.close();
            routes.close();
            fleet.close();
        }
    }

    static RouteTable seed() {
        RouteTable.Builder b = RouteTable.builder(Locality.of("sz", "sz1"), SLOTS);
        for (String s : SETS) {
            b.addSet(new CellSet(s, s.substring(0, 2), s.substring(0, 2) + "1", SetState.UP, 1, List.of("127.0.0.1:1")));
        }
        for (int i = 0; i < SETS.length; i++) {
            b.apply(new RouteChange.MoveSlots(i * SLOTS / SETS.length, (i + 1) * SLOTS / SETS.length - 1, SETS[i]));
        }
        return b.build(1);
    }

    /** What one fleet size measured. */
    record SizeResult(int gateways, long[] routeToAll, long[] routeEach, long[] settingsToAll, double etcdCpuMsPerChange,
                      double etcdBytesPerChange, double changeSeconds, double idleEtcdCpuPercent, double idleEtcdBytesPerSecond,
                      double startSeconds) {
    }

    @Test
    // The full run (perf/run-fleet-sim.sh) takes minutes; every wait inside has its own bound.
    @org.junit.jupiter.api.Timeout(value = 60, unit = TimeUnit.MINUTES)
    void aFleetOfSimulatedGatewaysTakesUpEveryChangeAndRidesOutRestarts(@TempDir Path dir) throws Exception {
        int[] sizes = Arrays.stream(System.getProperty("sim.gateways", "5").split(",")).mapToInt(Integer::parseInt).toArray();
        int restSeconds = Integer.getInteger("sim.restSeconds", 1);
        int routeChanges = Integer.getInteger("sim.routeChanges", 20);
        int settingsChanges = Integer.getInteger("sim.settingsChanges", 6);
        int missedChanges = Integer.getInteger("sim.missedChanges", 10);
        Random random = new Random(7);
        List<SizeResult> results = new ArrayList<>();
        double restartSeconds = 0;
        double etcdRestartSeconds = 0;
        long afterEtcdRestart = 0;
        try (EtcdProcess etcd = new EtcdProcess(dir)) {
            for (int s = 0; s < sizes.length; s++) {
                int n = sizes[s];
                boolean last = s == sizes.length - 1;
                String prefix = "/cellgate/sim-" + n + "/";
                Arrivals routeArrivals = new Arrivals(n);
                Arrivals settingsArrivals = new Arrivals(n);
                SimGateway[] gateways = new SimGateway[n];
                boolean[] absent = new boolean[n];
                long started = System.nanoTime();
                try {
                    for (int i = 0; i < n; i++) {
                        gateways[i] = new SimGateway(i, etcd.url(), prefix, dir.resolve(n + "-g" + i), routeArrivals, settingsArrivals);
                    }
                    double startSeconds = (System.nanoTime() - started) / 1e9;
                    Await.until("every gateway registered", () -> gateways[0].membership.members().size() == n);

                    // The fleet at rest: registrations renewed and read, probes.
                    EtcdUse idleFrom = EtcdUse.of(etcd);
                    Thread.sleep(restSeconds * 1000L);
                    EtcdUse idle = EtcdUse.of(etcd).minus(idleFrom);

                    EtcdUse changesFrom = EtcdUse.of(etcd);
                    long[] routeToAll = new long[routeChanges];
                    List<Long> routeEach = new ArrayList<>();
                    for (int c = 0; c < routeChanges; c++) {
                        int writer = random.nextInt(n);
                        int from = random.nextInt(SLOTS / 16) * 16;
                        long written = System.nanoTime();
                        long epoch = gateways[writer].engine.apply(List.of(new RouteChange.MoveSlots(from, from + 15,
                                SETS[random.nextInt(SETS.length)]))).epoch();
                        long[] each = routeArrivals.await(epoch, writer, written, absent);
                        routeToAll[c] = Arrays.stream(each).max().orElse(0);
                        for (long e : each) {
                            routeEach.add(e);
                        }
                    }
                    long[] settingsToAll = new long[settingsChanges];
                    for (int c = 0; c < settingsChanges; c++) {
                        int writer = random.nextInt(n);
                        String degrade = c % 2 == 0 ? "P1" : "none";
                        long written = System.nanoTime();
                        long epoch = gateways[writer].settings.update(x -> x.toBuilder().setDegrade(degrade).build()).getEpoch();
                        settingsToAll[c] = Arrays.stream(settingsArrivals.await(epoch, writer, written, absent)).max().orElse(0);
                    }
                    EtcdUse changes = EtcdUse.of(etcd).minus(changesFrom);
                    int changeCount = routeChanges + settingsChanges;
                    // Per change, the fleet's background (renewals, member reads, probes) during the changes included.
                    results.add(new SizeResult(n, sorted(routeToAll), sorted(routeEach.stream().mapToLong(Long::longValue).toArray()),
                            sorted(settingsToAll), changes.cpuMillis() / changeCount, changes.sentBytes() / changeCount,
                            changes.nanos() / 1e9,
                            idle.cpuMillis() / (idle.nanos() / 1e6) * 100, idle.sentBytes() / (idle.nanos() / 1e9), startSeconds));
                    System.out.printf("fleet simulation: %d gateways: route change to all p50 %.1f ms, p99 %.1f ms; settings p99 %.1f ms%n", n,
                            results.get(s).routeToAll()[routeChanges / 2] / 1e6, p99(results.get(s).routeToAll()) / 1e6,
                            p99(results.get(s).settingsToAll()) / 1e6);

                    if (last) {
                        // A gateway restarts after changes it did not see: it reads the routes and settings again.
                        gateways[0].close();
                        absent[0] = true;
                        for (int c = 0; c < missedChanges; c++) {
                            long epoch = gateways[1].engine.apply(List.of(new RouteChange.MoveSlots(c * 16, c * 16 + 15, SETS[c % SETS.length])))
                                    .epoch();
                            routeArrivals.await(epoch, 1, System.nanoTime(), absent);
                        }
                        long latest = gateways[1].engine.current().epoch();
                        long restartFrom = System.nanoTime();
                        gateways[0] = new SimGateway(0, etcd.url(), prefix, dir.resolve(n + "-g0"), routeArrivals, settingsArrivals);
                        Await.until("the restarted gateway at epoch " + latest, () -> gateways[0].engine.current().epoch() == latest);
                        restartSeconds = (System.nanoTime() - restartFrom) / 1e9;
                        absent[0] = false;
                        assertThat(gateways[0].engine.current().sameRoutes(gateways[1].engine.current())).isTrue();

                        // etcd restarts: every gateway goes stale, serves on, and is fresh again when it returns.
                        etcd.stop();
                        Await.until("every gateway stale", () -> Arrays.stream(gateways).allMatch(g -> g.fleet.stale()));
                        long etcdFrom = System.nanoTime();
                        etcd.start();
                        Await.until("every gateway fresh", Duration.ofSeconds(60), () -> Arrays.stream(gateways).noneMatch(g -> g.fleet.stale()));
                        etcdRestartSeconds = (System.nanoTime() - etcdFrom) / 1e9;
                        long written = System.nanoTime();
                        long epoch = gateways[2].engine.apply(List.of(new RouteChange.MoveSlots(0, 15, "sh-b"))).epoch();
                        afterEtcdRestart = Arrays.stream(routeArrivals.await(epoch, 2, written, absent)).max().orElse(0);
                    }
                } finally {
                    for (SimGateway g : gateways) {
                        if (g != null) {
                            g.close();
                        }
                    }
                }
            }
        }
        String report = System.getProperty("sim.report");
        if (report != null) {
            writeReport(Path.of(report), results, routeChanges, settingsChanges, restartSeconds, etcdRestartSeconds, afterEtcdRestart);
        }
        for (SizeResult r : results) {
            assertThat(r.etcdBytesPerChange()).as("etcd sends every change to every gateway").isPositive();
        }
        assertThat(restartSeconds).as("the restarted gateway caught up").isPositive();
    }

    /** etcd's CPU time (from /proc) and the bytes it sent to clients (its metrics), at one moment. */
    record EtcdUse(long nanos, double cpuMillis, double sentBytes) {
        static EtcdUse of(EtcdProcess etcd) throws IOException, InterruptedException {
            String[] stat = Files.readString(Path.of("/proc/" + etcd.pid() + "/stat")).split("\\) ")[1].split(" ");
            double ticks = Long.parseLong(stat[11]) + Long.parseLong(stat[12]);
            return new EtcdUse(System.nanoTime(), ticks * 10, metric(etcd, "etcd_network_client_grpc_sent_bytes_total"));
        }

        EtcdUse minus(EtcdUse earlier) {
            return new EtcdUse(nanos - earlier.nanos, cpuMillis - earlier.cpuMillis, sentBytes - earlier.sentBytes);
        }

        private static double metric(EtcdProcess etcd, String name) throws IOException {
            try (var in = URI.create(etcd.metricsUrl()).toURL().openStream()) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (line.startsWith(name + " ")) {
                        return Double.parseDouble(line.substring(name.length() + 1).trim());
                    }
                }
            }
            throw new IOException("etcd's metrics have no " + name);
        }
    }

    static long[] sorted(long[] values) {
        long[] copy = values.clone();
        Arrays.sort(copy);
        return copy;
    }

    static long p99(long[] sorted) {
        return sorted[(int) Math.ceil(sorted.length * 0.99) - 1];
    }

    private static void writeReport(Path file, List<SizeResult> results, int routeChanges, int settingsChanges, double restartSeconds,
                                    double etcdRestartSeconds, long afterEtcdRestart) throws IOException {
        String sizes = String.join(",", results.stream().map(r -> Integer.toString(r.gateways())).toList());
        StringBuilder md = new StringBuilder();
        md.append("# Fleet simulation, ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append("\n\n")
                .append("One etcd 3.4 and ").append(sizes).append(" simulated gateways in one JVM (each with its own etcd client, route\n")
                .append("store and engine with a local copy, shared settings store, and registration on a 3 s lease; no client\n")
                .append("listener). ").append(routeChanges).append(" route changes (a move of 16 slots) and ").append(settingsChanges)
                .append(" settings changes (the degrade cap) are made through random\n")
                .append("gateways one at a time, each timed from the writer's call (its etcd write included) until every other\n")
                .append("gateway has published it.\n")
                .append("etcd's CPU comes from /proc, the bytes it sent to clients from its metrics: per change, what it used\n")
                .append("while the changes were made (the fleet's background included), and at rest over ")
                .append(Integer.getInteger("sim.restSeconds", 1)).append(" s before them (lease renewals,\n")
                .append("every gateway reading the registrations each renewal, probes).\n\n")
                .append("Command: `perf/run-fleet-sim.sh ").append(sizes).append(' ').append(routeChanges).append(' ').append(settingsChanges)
                .append("`\n\nMachine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
                .append(", Java ").append(System.getProperty("java.version")).append(". Every gateway and etcd share those cores: a\n")
                .append("change reaches N gateways whose work queues on two cores, so the times are an upper bound of a fleet\n")
                .append("on N hosts.\n\n")
                .append("| gateways | start (s) | route change to all: p50 / p99 / max (ms) | to each: p50 / p99 (ms) | settings to all: p50 / p99 / max (ms) "
                        + "| changes took (s) | etcd CPU per change (ms) | etcd bytes sent per change | at rest: etcd CPU | at rest: etcd bytes sent/s |\n")
                .append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (SizeResult r : results) {
            md.append(String.format("| %d | %.1f | %.1f / %.1f / %.1f | %.1f / %.1f | %.1f / %.1f / %.1f | %.0f | %.2f | %,.0f | %.1f%% | %,.0f |%n",
                    r.gateways(), r.startSeconds(), r.routeToAll()[r.routeToAll().length / 2] / 1e6, p99(r.routeToAll()) / 1e6,
                    r.routeToAll()[r.routeToAll().length - 1] / 1e6, r.routeEach()[r.routeEach().length / 2] / 1e6, p99(r.routeEach()) / 1e6,
                    r.settingsToAll()[r.settingsToAll().length / 2] / 1e6, p99(r.settingsToAll()) / 1e6,
                    r.settingsToAll()[r.settingsToAll().length - 1] / 1e6, r.changeSeconds(), r.etcdCpuMsPerChange(), r.etcdBytesPerChange(),
                    r.idleEtcdCpuPercent(), r.idleEtcdBytesPerSecond()));
        }
        SizeResult largest = results.get(results.size() - 1);
        md.append(String.format("%nWith %d gateways: a gateway stopped while " + Integer.getInteger("sim.missedChanges", 10)
                + " route changes were made, started again, published the%n"
                + "current routes %.2f s after it was started; etcd killed and started again: every gateway fresh %.1f s after%n"
                + "etcd started (their probes, every " + Integer.getInteger("sim.probeMillis", 200) + " ms, back off up to 8x while it is"
                + " down), and the next change reached all %.1f ms after it%n"
                + "was written.%n", largest.gateways(), restartSeconds, etcdRestartSeconds, afterEtcdRestart / 1e6));

        Path plots = file.resolveSibling(file.getFileName().toString().replaceFirst("\\.md$", ""));
        Files.createDirectories(plots);
        double[] x = results.stream().mapToDouble(SizeResult::gateways).toArray();
        Files.writeString(plots.resolve("propagation-by-gateways.svg"), new SvgChart("A change reaching every gateway", "gateways", "ms", false)
                .series("route p50", x, results.stream().mapToDouble(r -> r.routeToAll()[r.routeToAll().length / 2] / 1e6).toArray())
                .series("route p99", x, results.stream().mapToDouble(r -> p99(r.routeToAll()) / 1e6).toArray())
                .series("settings p99", x, results.stream().mapToDouble(r -> p99(r.settingsToAll()) / 1e6).toArray())
                .render());
        Files.writeString(plots.resolve("etcd-by-gateways.svg"), new SvgChart("What etcd sends", "gateways", "KiB", false)
                .series("per change", x, results.stream().mapToDouble(r -> r.etcdBytesPerChange() / 1024).toArray())
                .series("per second at rest", x, results.stream().mapToDouble(r -> r.idleEtcdBytesPerSecond() / 1024).toArray())
                .render());
        String dirName = plots.getFileName().toString();
        md.append("\n![propagation](").append(dirName).append("/propagation-by-gateways.svg)\n![etcd](").append(dirName)
                .append("/etcd-by-gateways.svg)\n");
        Files.writeString(file, md.toString());
    }
}
