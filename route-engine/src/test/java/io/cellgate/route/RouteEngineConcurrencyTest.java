package io.cellgate.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Four readers resolve continuously while one writer applies 1,000 batches. Each batch moves 4,000
 * slots (as four changes) and one user's override to the same set, so in any published snapshot all
 * of them agree; a reader that saw a half-applied batch would see them disagree.
 */
class RouteEngineConcurrencyTest {
    private static final int SLOTS = 16384;
    private static final long WATCHED_UID = 4242;

    @Test
    void readersNeverSeeAHalfAppliedBatch() throws Exception {
        RouteTable.Builder b = RouteTable.builder("A", "a-1", SLOTS);
        b.addSet(new CellSet("x", "A", "a-1", SetState.UP, 1, List.of()));
        b.addSet(new CellSet("y", "A", "a-1", SetState.UP, 1, List.of()));
        b.apply(new RouteChange.MoveSlots(0, SLOTS - 1, "x"));
        b.apply(new RouteChange.SetOverride(WATCHED_UID, "x"));
        RouteEngine engine = new RouteEngine(b.build(1));

        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> violation = new AtomicReference<>();
        AtomicLong reads = new AtomicLong();
        CountDownLatch started = new CountDownLatch(4);
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 4; r++) {
            Thread t = new Thread(() -> {
                long lastEpoch = 0;
                started.countDown();
                while (!stop.get()) {
                    RouteTable t1 = engine.current();
                    if (t1.epoch() < lastEpoch) {
                        violation.compareAndSet(null, "epoch went back: " + lastEpoch + " -> " + t1.epoch());
                    }
                    lastEpoch = t1.epoch();
                    int expected = t1.writePointOf(WATCHED_UID);
                    for (int slot = 0; slot < 4000; slot += 333) {
                        if (t1.setOfSlot(slot) != expected) {
                            violation.compareAndSet(null, "epoch " + t1.epoch() + ": slot " + slot + " on " + t1.setOfSlot(slot)
                                    + " but the override on " + expected);
                        }
                    }
                    if (t1.setOfSlot(3999) != expected) {
                        violation.compareAndSet(null, "epoch " + t1.epoch() + ": slot 3999 disagrees");
                    }
                    reads.incrementAndGet();
                }
            }, "reader-" + r);
            readers.add(t);
            t.start();
        }
        started.await();
        for (int batch = 0; batch < 1000; batch++) {
            String target = batch % 2 == 0 ? "y" : "x";
            engine.apply(List.of(new RouteChange.MoveSlots(0, 999, target), new RouteChange.MoveSlots(1000, 1999, target),
                    new RouteChange.MoveSlots(2000, 2999, target), new RouteChange.SetOverride(WATCHED_UID, target),
                    new RouteChange.MoveSlots(3000, 3999, target)));
        }
        stop.set(true);
        for (Thread t : readers) {
            t.join(10_000);
        }
        assertThat(violation.get()).isNull();
        assertThat(engine.current().epoch()).isEqualTo(1001);
        assertThat(reads.get()).isGreaterThan(1000);
    }
}
