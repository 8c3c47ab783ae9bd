package io.cellgate.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileRouteStoreTest {

    private static RouteEngine engineWithStore(FileRouteStore store) throws IOException {
        RouteTable initial = RouteTableTest.sixSets();
        store.replace(initial);
        return new RouteEngine(initial, store);
    }

    private static void assertSameRoutes(RouteTable a, RouteTable b) {
        assertThat(b.epoch()).isEqualTo(a.epoch());
        assertThat(b.sets()).isEqualTo(a.sets());
        assertThat(b.centerSetName()).isEqualTo(a.centerSetName());
        assertThat(b.forbiddenCities()).isEqualTo(a.forbiddenCities());
        assertThat(b.fenceEpochs()).isEqualTo(a.fenceEpochs());
        assertThat(b.overrideCount()).isEqualTo(a.overrideCount());
        for (int slot = 0; slot < a.slotCount(); slot++) {
            assertThat(b.setOfSlot(slot)).isEqualTo(a.setOfSlot(slot));
            assertThat(b.isSlotWriteForbidden(slot)).isEqualTo(a.isSlotWriteForbidden(slot));
        }
        a.forEachOverride((uid, set) -> assertThat(b.writePointOf(uid)).isEqualTo(set));
    }

    @Test
    void everyAppliedBatchSurvivesARestart(@TempDir Path dir) throws IOException {
        RouteEngine engine = engineWithStore(new FileRouteStore(dir));
        engine.apply(List.of(new RouteChange.MoveSlots(0, 3999, "b2"), new RouteChange.SetOverride(-7L, "a3")));
        engine.apply(List.of(new RouteChange.ForbidSlots(10, 20, true), new RouteChange.ForbidCity("B", true)));
        engine.apply(List.of(new RouteChange.SetSetState("a2", SetState.DRAINING),
                new RouteChange.SetEndpoints("a4", List.of("10.0.0.1:7000", "10.0.0.2:7000"))));

        RouteStore.Loaded loaded = new FileRouteStore(dir).load(Locality.of("A", "a-1"));
        assertThat(loaded.problems()).isEmpty();
        assertSameRoutes(engine.current(), loaded.table());
        assertThat(loaded.table().epoch()).isEqualTo(4);
        assertThat(loaded.table().fenceEpochs()).containsExactly(java.util.Map.entry("B", 3L));
    }

    @Test
    void aTornLastRecordIsSkippedAndReported(@TempDir Path dir) throws IOException {
        RouteEngine engine = engineWithStore(new FileRouteStore(dir));
        engine.apply(List.of(new RouteChange.MoveSlots(0, 99, "b1")));
        RouteTable complete = engine.current();
        engine.apply(List.of(new RouteChange.MoveSlots(100, 199, "b1")));
        // The writer died in the middle of its last append: cut the file inside that record.
        Path log = dir.resolve(FileRouteStore.LOG);
        byte[] bytes = Files.readAllBytes(log);
        Files.write(log, Arrays.copyOf(bytes, bytes.length - 7));

        RouteStore.Loaded loaded = new FileRouteStore(dir).load(Locality.of("A", "a-1"));
        assertSameRoutes(complete, loaded.table());
        assertThat(loaded.problems()).singleElement().asString()
                .startsWith("routes.log: skipped a torn record at byte").contains("no end of line");
        // The good prefix was kept: the next batch continues from epoch 2 and loads cleanly.
        FileRouteStore reopened = new FileRouteStore(dir);
        RouteStore.Loaded again = reopened.load(Locality.of("A", "a-1"));
        RouteEngine resumed = new RouteEngine(again.table(), reopened);
        resumed.apply(List.of(new RouteChange.MoveSlots(200, 299, "b2")));
        RouteStore.Loaded last = new FileRouteStore(dir).load(Locality.of("A", "a-1"));
        assertThat(last.problems()).isEmpty();
        assertSameRoutes(resumed.current(), last.table());
    }

    @Test
    void aFailedWriteFailsItsChangeAndTheNextWriteLeavesTheStoreWhole(@TempDir Path dir) throws IOException {
        RouteEngine engine = engineWithStore(new FileRouteStore(dir));
        engine.apply(List.of(new RouteChange.MoveSlots(0, 99, "b1")));
        RouteTable before = engine.current();
        // The log cannot be written (here: a directory in its place).
        Path log = dir.resolve(FileRouteStore.LOG);
        Files.delete(log);
        Files.createDirectory(log);
        assertThatThrownBy(() -> engine.apply(List.of(new RouteChange.MoveSlots(100, 199, "b2"))))
                .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("cannot save epoch 3");
        assertThat(engine.current()).as("nothing published").isSameAs(before);
        // What a write cut off half-way leaves behind: a torn record at the end of the log.
        Files.delete(log);
        Files.writeString(log, "3 1234 move 100 1");

        engine.apply(List.of(new RouteChange.MoveSlots(200, 299, "b2")));
        RouteStore.Loaded loaded = new FileRouteStore(dir).load(Locality.of("A", "a-1"));
        assertThat(loaded.problems()).isEmpty();
        assertSameRoutes(engine.current(), loaded.table());
        assertThat(loaded.table().setOfSlot(150)).isEqualTo(before.setOfSlot(150));
    }

    @Test
    void aCorruptRecordStopsTheReplayThere(@TempDir Path dir) throws IOException {
        RouteEngine engine = engineWithStore(new FileRouteStore(dir));
        engine.apply(List.of(new RouteChange.MoveSlots(0, 99, "b1")));
        RouteTable good = engine.current();
        engine.apply(List.of(new RouteChange.MoveSlots(100, 199, "b1")));
        engine.apply(List.of(new RouteChange.MoveSlots(200, 299, "b1")));
        Path log = dir.resolve(FileRouteStore.LOG);
        String text = Files.readString(log);
        Files.writeString(log, text.replace("move 100 199 b1", "move 100 199 b2"));

        RouteStore.Loaded loaded = new FileRouteStore(dir).load(Locality.of("A", "a-1"));
        assertSameRoutes(good, loaded.table());
        assertThat(loaded.problems()).singleElement().asString()
                .contains("a corrupt record (checksum mismatch)").contains("skipped");
    }

    @Test
    void aCorruptSnapshotFallsBackToThePreviousOne(@TempDir Path dir) throws IOException {
        FileRouteStore store = new FileRouteStore(dir);
        RouteEngine engine = engineWithStore(store);
        RouteTable first = engine.current();
        engine.replace(first.toBuilder().apply(new RouteChange.MoveSlots(0, 9, "b2")).build(first.epoch()));
        Path snapshot = dir.resolve(FileRouteStore.SNAPSHOT);
        byte[] bytes = Files.readAllBytes(snapshot);
        Files.write(snapshot, Arrays.copyOf(bytes, bytes.length / 2));

        RouteStore.Loaded loaded = new FileRouteStore(dir).load(Locality.of("A", "a-1"));
        assertSameRoutes(first, loaded.table());
        assertThat(loaded.problems()).containsExactly(
                "routes.snapshot: ignored, truncated or corrupt (checksum mismatch)",
                "routes.snapshot.prev: using the previous snapshot, epoch 1");
    }

    @Test
    void aLeftoverTemporaryFileIsIgnoredAndAnEmptyStoreLoadsNothing(@TempDir Path dir) throws IOException {
        assertThat(new FileRouteStore(dir).load(Locality.of("A", "a-1")).table()).isNull();
        Files.writeString(dir.resolve("routes.snapshot.tmp"), "cellgate-routes-snapshot v1\nepoch 9\nslo", StandardCharsets.UTF_8);
        engineWithStore(new FileRouteStore(dir));
        RouteStore.Loaded loaded = new FileRouteStore(dir).load(Locality.of("A", "a-1"));
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.table().epoch()).isEqualTo(1);
    }

    @Test
    void theLogIsFoldedIntoASnapshotAfterCompactEveryRecords(@TempDir Path dir) throws IOException {
        RouteEngine engine = engineWithStore(new FileRouteStore(dir, 5));
        for (int i = 0; i < 12; i++) {
            engine.apply(List.of(new RouteChange.MoveSlots(i, i, i % 2 == 0 ? "b1" : "b2")));
        }
        assertThat(Files.readAllLines(dir.resolve(FileRouteStore.LOG)).size()).isLessThanOrEqualTo(5);
        RouteStore.Loaded loaded = new FileRouteStore(dir).load(Locality.of("A", "a-1"));
        assertThat(loaded.problems()).isEmpty();
        assertSameRoutes(engine.current(), loaded.table());
    }
}
