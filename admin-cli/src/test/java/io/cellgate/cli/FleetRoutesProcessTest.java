package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.admin.v1.ApplyRoutesRequest;
import io.cellgate.protocol.admin.v1.GetRoutesRequest;
import io.cellgate.protocol.admin.v1.Override;
import io.cellgate.protocol.admin.v1.RouteChangeMsg;
import io.cellgate.testkit.EtcdProcess;
import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestAo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-user overrides by the hundred thousand (a million in {@code perf/run-fleet-routes.sh}) across three
 * gatewayd processes on one etcd: loaded in batches, batches of moves timed until the other two
 * gateways apply them, and a gateway restarted to read the whole table again.
 *
 * <p>{@code -Dfleet.overrides=N} (default 50,000), {@code -Dfleet.batch=N} (5,000),
 * {@code -Dfleet.moveBatches=N} (5), {@code -Dfleet.heap=-XmxN} (-Xmx256m) and
 * {@code -Dfleet.routesReport=FILE} (a report of what was measured).
 */
@StartsProcesses
class FleetRoutesProcessTest {

    @Test
    // The full run (perf/run-fleet-routes.sh) takes minutes; every wait inside has its own bound.
    @org.junit.jupiter.api.Timeout(value = 60, unit = TimeUnit.MINUTES)
    void overridesBeyondOneEtcdValueMoveInBatchesAndARestartedGatewayReadsThemAll(@TempDir Path dir) throws Exception {
        int total = Integer.getInteger("fleet.overrides", 50_000);
        int batch = Integer.getInteger("fleet.batch", 5_000);
        int moveBatches = Integer.getInteger("fleet.moveBatches", 5);
        String heap = System.getProperty("fleet.heap", "-Xmx256m");
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            List<FleetProcessTest.Node> nodes = new ArrayList<>();
            try {
                for (String name : List.of("a", "b", "c")) {
                    FleetProcessTest.Node n = new FleetProcessTest.Node(dir, name,
                            FleetProcessTest.yaml(etcd.url(), dir.resolve(name + "-routes"), sz.address(), sh.address()));
                    n.heap = heap;
                    n.start();
                    nodes.add(n);
                }
                FleetProcessTest.Node a = nodes.get(0);
                FleetProcessTest.Node b = nodes.get(1);
                FleetProcessTest.Node c = nodes.get(2);

                long loadStarted = System.nanoTime();
                for (int from = 0; from < total; from += batch) {
                    a.admin.call(120).applyRoutes(overrides(from, Math.min(batch, total - from), "sh-a"));
                }
                long loaded = a.epoch();
                FleetProcessTest.await("all three at epoch " + loaded, () -> nodes.stream().allMatch(n -> n.epoch() == loaded));
                double loadSeconds = (System.nanoTime() - loadStarted) / 1e9;
                for (FleetProcessTest.Node n : nodes) {
                    assertThat(overrideCount(n)).as(n.name + "'s overrides").isEqualTo(total);
                }

                // Batches of moves: users already overridden get another set, timed until b and c have each.
                long[] nanos = new long[2 * moveBatches];
                long[] applyNanos = new long[moveBatches];
                for (int i = 0; i < moveBatches; i++) {
                    int from = (int) ((long) i * batch % Math.max(1, total - batch + 1));
                    long sent = System.nanoTime();
                    long target = a.admin.call(120).applyRoutes(overrides(from, batch, i % 2 == 0 ? "sz-a" : "sh-a")).getEpoch();
                    long t0 = System.nanoTime();
                    applyNanos[i] = t0 - sent;
                    boolean bDone = false;
                    boolean cDone = false;
                    while (!bDone || !cDone) {
                        if (!bDone && b.epoch() >= target) {
                            bDone = true;
                            nanos[2 * i] = System.nanoTime() - t0;
                        }
                        if (!cDone && c.epoch() >= target) {
                            cDone = true;
                            nanos[2 * i + 1] = System.nanoTime() - t0;
                        }
                        assertThat(System.nanoTime() - t0).as("batch " + i + " reached b and c").isLessThan(TimeUnit.SECONDS.toNanos(60));
                    }
                }
                Arrays.sort(nanos);
                Arrays.sort(applyNanos);
                long p50 = nanos[nanos.length / 2];
                long p99 = nanos[(int) Math.ceil(nanos.length * 0.99) - 1];
                System.out.printf("fleet routes: %d overrides loaded in %.1f s; %d batches of %d moves: p50 %.0f ms, p99 %.0f ms,"
                        + " max %.0f ms to the other gateways%n", total, loadSeconds, moveBatches, batch, p50 / 1e6, p99 / 1e6,
                        nanos[nanos.length - 1] / 1e6);
                assertThat(TimeUnit.NANOSECONDS.toMillis(p99)).as("propagation p99 of a batch of " + batch + " moves (ms)")
                        .isLessThanOrEqualTo(1000);

                // c restarts and reads the whole table from etcd.
                long epoch = a.epoch();
                c.stop();
                long restartStarted = System.nanoTime();
                c.start();
                FleetProcessTest.await("c at epoch " + epoch, () -> c.epoch() == epoch);
                double restartSeconds = (System.nanoTime() - restartStarted) / 1e9;
                assertThat(overrideCount(c)).isEqualTo(total);
                String bootLine = Files.readAllLines(c.log).stream().filter(l -> l.contains("from etcd (revision"))
                        .reduce((first, second) -> second).orElseThrow();
                Matcher read = Pattern.compile("read in (\\d+) ms").matcher(bootLine);
                assertThat(read.find()).as(bootLine).isTrue();
                long liveHeap = liveHeapBytes(c.daemon.process().pid());
                System.out.printf("fleet routes: c restarted and served epoch %d after %.1f s (routes read in %s ms); live heap %.0f MiB%n",
                        epoch, restartSeconds, read.group(1), liveHeap / 1048576.0);

                String report = System.getProperty("fleet.routesReport");
                if (report != null) {
                    writeReport(Path.of(report), total, batch, moveBatches, heap, loadSeconds, nanos, applyNanos, restartSeconds,
                            Long.parseLong(read.group(1)), liveHeap, Files.readAllLines(a.log).stream()
                                    .filter(l -> l.contains("folded")).count()
                                    + Files.readAllLines(b.log).stream().filter(l -> l.contains("folded")).count());
                }
            } finally {
                for (FleetProcessTest.Node n : nodes) {
                    n.close();
                }
            }
        }
    }

    /** Overrides for users {@code from .. from + count - 1} (spread over the slots), all to {@code set}. */
    static ApplyRoutesRequest overrides(int from, int count, String set) {
        ApplyRoutesRequest.Builder request = ApplyRoutesRequest.newBuilder();
        for (int i = from; i < from + count; i++) {
            request.addChanges(RouteChangeMsg.newBuilder().setSetOverride(Override.newBuilder().setUid(1_000_003L * (i + 1)).setSet(set)));
        }
        return request.build();
    }

    static int overrideCount(FleetProcessTest.Node n) {
        return n.admin.call(10).getRoutes(GetRoutesRequest.newBuilder().setWithoutUsers(true).build()).getOverrideCount();
    }

    /** The bytes of live objects in process {@code pid}, from a class histogram (which collects first). */
    static long liveHeapBytes(long pid) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Matcher total = Pattern.compile("Total\\s+\\d+\\s+(\\d+)").matcher(out);
        assertThat(total.find()).as(out.length() > 400 ? out.substring(out.length() - 400) : out).isTrue();
        return Long.parseLong(total.group(1));
    }

    private static void writeReport(Path file, int total, int batch, int moveBatches, String heap, double loadSeconds,
                                    long[] sorted, long[] applySorted, double restartSeconds, long readMillis, long liveHeap,
                                    long folds) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Fleet routes at scale, ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append("\n\n")
                .append("Three gatewayd processes (").append(heap).append(", serial GC) and one etcd 3.4 on loopback. ")
                .append(String.format("%,d", total)).append(" per-user overrides are loaded through node a's admin API in batches of ")
                .append(String.format("%,d", batch)).append("; then ").append(moveBatches).append(" batches of ")
                .append(String.format("%,d", batch)).append(" moves (overridden users given the other set) are each timed from\n")
                .append("node a's answer until node b and node c report the new epoch (two samples per batch); then node c is\n")
                .append("stopped and started again and reads the whole table from etcd.\n\n")
                .append("Command: `perf/run-fleet-routes.sh ").append(total).append(' ').append(batch).append(' ').append(moveBatches)
                .append("`\n\nMachine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
                .append(", Java ").append(System.getProperty("java.version")).append("\n\n")
                .append("| what | figure | goal |\n|---|---|---|\n")
                .append(String.format("| load of %,d overrides in batches of %,d | %.1f s, all three at the last epoch | |%n", total, batch,
                        loadSeconds))
                .append(String.format("| a batch of %,d moves: node a's admin call (etcd write included), p50 / max | %.0f / %.0f ms | |%n",
                        batch, applySorted[applySorted.length / 2] / 1e6, applySorted[applySorted.length - 1] / 1e6))
                .append(String.format("| ...then until b and c have it: p50 / p99 / max (%d samples) | %.0f / %.0f / %.0f ms | p99 <= 1,000 ms |%n",
                        sorted.length, sorted[sorted.length / 2] / 1e6, sorted[(int) Math.ceil(sorted.length * 0.99) - 1] / 1e6,
                        sorted[sorted.length - 1] / 1e6))
                .append(String.format("| restart of node c: start to serving the current epoch | %.1f s | |%n", restartSeconds))
                .append(String.format("| ...of which reading the routes from etcd (its log line) | %,d ms | |%n", readMillis))
                .append(String.format("| node c's live heap after the restart (class histogram, after a full GC) | %.0f MiB | |%n",
                        liveHeap / 1048576.0))
                .append(String.format("| folds of the log (nodes a and b logs) | %d | |%n", folds))
                .append("\nWhat the figures hold: etcd's watch delivery, each gateway applying the batch to its table (a copy of the\n")
                .append("override map, the batch applied, a new snapshot built), publishing it, and the test's own polling (admin\n")
                .append("Status calls in a loop), on a 2-core machine that also runs the three gateways, etcd and the test. Each\n")
                .append("gateway keeps its local copy (the batch appended to its log, an fsync) after publishing.\n");
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, md.toString());
    }
}
