package io.cellgate.perf.bench;

import io.cellgate.route.CellSet;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteClass;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.cellgate.route.WriteFailover;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The per-request route lookup: one volatile read of the snapshot, uid to slot to write point (or
 * the nearest UP set for reads), and the set's endpoint list. Optionally a writer thread publishes a
 * new snapshot (moving 64 slots) every millisecond, as a busy operator or a migration would.
 *
 * <p>{@code perf/run-jmh.sh RouteLookupBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class RouteLookupBenchmark {
    private static final int SLOTS = 16384;
    private static final String[] SETS = {"sz-a", "sz-b", "sh-a", "sh-b"};

    /** {@code none}: no writer; {@code 1ms}: a writer publishes a new snapshot every millisecond. */
    @Param({"none", "1ms"})
    public String writer;

    private RouteEngine engine;
    private long[] uids;
    private Thread writerThread;
    private volatile boolean stop;

    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    @Setup(Level.Trial)
    public void setUp() {
        RouteTable.Builder b = RouteTable.builder("shenzhen", "sz-1", SLOTS);
        String[][] where = {{"shenzhen", "sz-1"}, {"shenzhen", "sz-2"}, {"shanghai", "sh-1"}, {"shanghai", "sh-2"}};
        for (int i = 0; i < SETS.length; i++) {
            b.addSet(new CellSet(SETS[i], where[i][0], where[i][1], SetState.UP, 1,
                    List.of("10.0." + i + ".1:7000", "10.0." + i + ".2:7000")));
            b.apply(new RouteChange.MoveSlots(i * SLOTS / 4, (i + 1) * SLOTS / 4 - 1, SETS[i]));
        }
        for (long uid = 0; uid < 10_000; uid++) {
            b.apply(new RouteChange.SetOverride(uid * 7919, SETS[(int) (uid % 4)]));
        }
        engine = new RouteEngine(b.build(1));
        SplittableRandom random = new SplittableRandom(42);
        uids = new long[1 << 16];
        for (int i = 0; i < uids.length; i++) {
            uids[i] = random.nextLong();
        }
        if (writer.equals("1ms")) {
            writerThread = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(7);
                while (!stop) {
                    int from = r.nextInt(SLOTS - 64);
                    engine.apply(List.of(new RouteChange.MoveSlots(from, from + 63, SETS[r.nextInt(SETS.length)])));
                    LockSupport.parkNanos(1_000_000);
                }
            }, "route-writer");
            writerThread.setDaemon(true);
            writerThread.start();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        stop = true;
        if (writerThread != null) {
            writerThread.join();
        }
    }

    @Benchmark
    public void resolveWrite(Cursor cursor, Blackhole bh) {
        long uid = uids[cursor.next++ & (uids.length - 1)];
        RouteTable table = engine.current();
        int set = table.resolve(uid, RouteClass.WRITE, WriteFailover.PEER);
        bh.consume(table.set(set).endpoints());
    }

    @Benchmark
    public void resolveRead(Cursor cursor, Blackhole bh) {
        long uid = uids[cursor.next++ & (uids.length - 1)];
        RouteTable table = engine.current();
        int set = table.resolve(uid, RouteClass.READ, WriteFailover.PEER);
        bh.consume(table.set(set).endpoints());
    }
}
