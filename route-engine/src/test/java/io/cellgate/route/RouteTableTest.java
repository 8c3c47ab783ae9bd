package io.cellgate.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RouteTableTest {
    private static final int SLOTS = 16384;

    /** City A (local, IDCs a-1 and a-2) with sets a1..a4, city B with sets b1, b2; slots spread evenly over all six. */
    static RouteTable sixSets() {
        RouteTable.Builder b = RouteTable.builder("A", "a-1", SLOTS);
        String[][] sets = {{"a1", "A", "a-1"}, {"a2", "A", "a-1"}, {"a3", "A", "a-2"}, {"a4", "A", "a-2"},
            {"b1", "B", "b-1"}, {"b2", "B", "b-2"}};
        for (String[] s : sets) {
            b.addSet(new CellSet(s[0], s[1], s[2], SetState.UP, 1, List.of("127.0.0.1:1")));
        }
        int per = SLOTS / sets.length;
        for (int i = 0; i < sets.length; i++) {
            int from = i * per;
            int to = i == sets.length - 1 ? SLOTS - 1 : from + per - 1;
            b.apply(new RouteChange.MoveSlots(from, to, sets[i][0]));
        }
        b.centerSet("b1");
        return b.build(1);
    }

    @Test
    void everySlotAndEveryUserResolvesToExactlyItsSlotsSet() {
        RouteTable t = sixSets();
        for (int slot = 0; slot < SLOTS; slot++) {
            assertThat(t.setOfSlot(slot)).isBetween(0, 5);
        }
        Random random = new Random(1);
        for (int i = 0; i < 100_000; i++) {
            long uid = random.nextLong();
            int set = t.resolve(uid, RouteClass.WRITE, WriteFailover.FAIL);
            assertThat(set).isEqualTo(t.setOfSlot(SlotHash.slotOf(uid, SLOTS)));
            assertThat(t.resolve(uid, RouteClass.WRITE, WriteFailover.FAIL)).isEqualTo(set);
        }
    }

    @Test
    void slotHashIsStable() {
        // Documented in docs/PROTOCOL.md: clients and the data layer compute the same slot.
        assertThat(SlotHash.fmix64(42)).isEqualTo(0x810879608e4259ccL);
        assertThat(SlotHash.slotOf(42, 16384)).isEqualTo(6604);
        assertThat(SlotHash.slotOf(-1L, 16384)).isBetween(0, 16383);
    }

    @Test
    void peerFailoverMovesOnlyTheFailedSetsSlotsAndSpreadsThemEvenlyInTheCity() {
        RouteTable before = sixSets();
        RouteEngine engine = new RouteEngine(before);
        RouteTable after = engine.apply(List.of(new RouteChange.SetSetState("a1", SetState.DOWN)));
        int a1 = after.indexOf("a1");
        int[] moved = new int[6];
        int movedTotal = 0;
        for (int slot = 0; slot < SLOTS; slot++) {
            long uid = uidInSlot(slot);
            int was = before.resolve(uid, RouteClass.WRITE, WriteFailover.PEER);
            int now = after.resolve(uid, RouteClass.WRITE, WriteFailover.PEER);
            if (was != a1) {
                assertThat(now).as("slot %d not on the failed set stays", slot).isEqualTo(was);
            } else {
                assertThat(after.set(now).city()).isEqualTo("A");
                assertThat(now).isNotEqualTo(a1);
                moved[now]++;
                movedTotal++;
            }
            assertThat(after.resolve(uid, RouteClass.WRITE, WriteFailover.FAIL))
                    .isEqualTo(was == a1 ? RouteTable.NO_ROUTE : was);
        }
        double mean = movedTotal / 3.0;
        for (String peer : List.of("a2", "a3", "a4")) {
            assertThat((double) moved[after.indexOf(peer)]).as("share of %s", peer).isBetween(mean * 0.9, mean * 1.1);
        }
        assertThat(moved[after.indexOf("b1")] + moved[after.indexOf("b2")]).isZero();
    }

    @Test
    void overridesWinOverSlots() {
        RouteEngine engine = new RouteEngine(sixSets());
        long uid = 12345;
        int slotSet = engine.current().resolve(uid, RouteClass.WRITE, WriteFailover.FAIL);
        String other = engine.current().set(slotSet).name().equals("b2") ? "b1" : "b2";
        RouteTable t = engine.apply(List.of(new RouteChange.SetOverride(uid, other)));
        assertThat(t.set(t.resolve(uid, RouteClass.WRITE, WriteFailover.FAIL)).name()).isEqualTo(other);
        assertThat(t.overrideCount()).isEqualTo(1);
        t = engine.apply(List.of(new RouteChange.ClearOverride(uid)));
        assertThat(t.resolve(uid, RouteClass.WRITE, WriteFailover.FAIL)).isEqualTo(slotSet);
        assertThat(t.epoch()).isEqualTo(3);
    }

    @Test
    void tenThousandOverridesAreEachFoundAndNobodyElseHasOne() {
        // The override filter skips the map for most users: every overridden uid must still be found, and a
        // uid without an override must get its slot's set whether its filter bit is set or not.
        RouteTable base = sixSets();
        Random random = new Random(7);
        java.util.Map<Long, String> overrides = new java.util.HashMap<>();
        List<RouteChange> changes = new java.util.ArrayList<>();
        while (overrides.size() < 10_000) {
            long uid = random.nextLong();
            String set = base.set(random.nextInt(6)).name();
            if (overrides.putIfAbsent(uid, set) == null) {
                changes.add(new RouteChange.SetOverride(uid, set));
            }
        }
        RouteTable t = new RouteEngine(base).apply(changes);
        overrides.forEach((uid, set) -> assertThat(t.set(t.writePointOf(uid)).name()).as("uid %d", uid).isEqualTo(set));
        for (int i = 0; i < 100_000; i++) {
            long uid = random.nextLong();
            if (!overrides.containsKey(uid)) {
                assertThat(t.writePointOf(uid)).isEqualTo(t.setOfSlot(t.slotOf(uid)));
            }
        }
    }

    @Test
    void forbiddenWritesAreRefusedWhileReadsPass() {
        RouteEngine engine = new RouteEngine(sixSets());
        long uid = 777;
        int slot = SlotHash.slotOf(uid, SLOTS);
        RouteTable t = engine.apply(List.of(new RouteChange.ForbidSlots(slot, slot, true)));
        assertThat(t.resolve(uid, RouteClass.WRITE, WriteFailover.PEER)).isEqualTo(RouteTable.WRITE_FORBIDDEN);
        assertThat(t.resolve(uid, RouteClass.READ, WriteFailover.PEER)).isGreaterThanOrEqualTo(0);
        assertThat(t.resolve(uidInSlot((slot + 1) % SLOTS), RouteClass.WRITE, WriteFailover.FAIL)).isGreaterThanOrEqualTo(0);

        t = engine.apply(List.of(new RouteChange.ForbidSlots(slot, slot, false), new RouteChange.ForbidCity("B", true)));
        for (int s = 0; s < SLOTS; s += 97) {
            long u = uidInSlot(s);
            int target = t.writePointOf(u);
            int result = t.resolve(u, RouteClass.WRITE, WriteFailover.FAIL);
            assertThat(result).isEqualTo(t.set(target).city().equals("B") ? RouteTable.WRITE_FORBIDDEN : target);
        }
    }

    @Test
    void aCitysFenceIsTheEpochItsWritesWereLastForbiddenAtAndOutlivesTheForbid() {
        RouteEngine engine = new RouteEngine(sixSets());
        int b1 = engine.current().indexOf("b1");
        int a1 = engine.current().indexOf("a1");
        assertThat(engine.current().fenceEpochs()).isEmpty();
        assertThat(engine.current().fenceEpoch(b1)).isZero();

        RouteTable forbidden = engine.apply(List.of(new RouteChange.ForbidCity("B", true)));
        assertThat(forbidden.epoch()).isEqualTo(2);
        assertThat(forbidden.fenceEpochs()).containsExactly(java.util.Map.entry("B", 2L));
        assertThat(forbidden.fenceEpoch(b1)).isEqualTo(2);
        assertThat(forbidden.fenceEpoch(a1)).isZero();
        // The center set (b1) takes writes: a forbidden city forbids CENTER commands too; reads pass.
        assertThat(forbidden.resolve(99, RouteClass.CENTER, WriteFailover.FAIL)).isEqualTo(RouteTable.WRITE_FORBIDDEN);

        // Forbidding it again moves nothing; allowing it keeps the fence; a later forbid raises it.
        assertThat(engine.apply(List.of(new RouteChange.ForbidCity("B", true))).fenceEpoch(b1)).isEqualTo(2);
        RouteTable allowed = engine.apply(List.of(new RouteChange.ForbidCity("B", false)));
        assertThat(allowed.fenceEpoch(b1)).isEqualTo(2);
        assertThat(allowed.set(allowed.resolve(99, RouteClass.CENTER, WriteFailover.FAIL)).name()).isEqualTo("b1");
        RouteTable again = engine.apply(List.of(new RouteChange.ForbidCity("B", true)));
        assertThat(again.fenceEpoch(b1)).isEqualTo(again.epoch()).isEqualTo(5);

        // The fence is part of the stored form, and replacing the table (a reload, a restore) never lowers it.
        RouteTable decoded = RouteTable.decode(again.encode(), again.locality());
        assertThat(decoded.fenceEpochs()).isEqualTo(again.fenceEpochs());
        assertThat(decoded.sameRoutes(again)).isTrue();
        RouteTable restored = engine.replace(sixSets());
        assertThat(restored.forbiddenCities()).isEmpty();
        assertThat(restored.fenceEpoch(restored.indexOf("b2"))).isEqualTo(5);
    }

    @Test
    void revocationsAreKeptStoredAndLifted() {
        RouteEngine engine = new RouteEngine(sixSets());
        RouteTable revoked = engine.apply(List.of(new RouteChange.RevokeUser(-2L, 2_000_000_000L), new RouteChange.RevokeUser(7, 1)));
        assertThat(revoked.revokedUntil(-2L)).isEqualTo(2_000_000_000L);
        assertThat(revoked.revokedUntil(7)).as("a revocation that has ended is not kept").isZero();
        assertThat(revoked.revokedUntil(8)).isZero();
        RouteTable decoded = RouteTable.decode(revoked.encode(), revoked.locality());
        assertThat(decoded.revokedUntil(-2L)).isEqualTo(2_000_000_000L);
        assertThat(decoded.sameRoutes(revoked)).isTrue();
        assertThat(RouteDiff.between(sixSets(), revoked)).contains("user 18446744073709551614: revoked until 2033-05-18T03:33:20Z");
        RouteTable lifted = engine.apply(List.of(new RouteChange.RevokeUser(-2L, 0)));
        assertThat(lifted.revokedUntil(-2L)).isZero();
        assertThat(lifted.revocationCount()).isZero();
        assertThat(RouteDiff.between(revoked, lifted)).containsExactly("user 18446744073709551614: revocation lifted");
        assertThatThrownBy(() -> new RouteChange.RevokeUser(1, -5)).isInstanceOf(RouteException.class);
    }

    @Test
    void readsPreferTheSameIdcThenTheSameCityThenOtherCities() {
        RouteEngine engine = new RouteEngine(sixSets());
        assertThat(readSets(engine.current())).containsOnly("a1", "a2");
        engine.apply(List.of(new RouteChange.SetSetState("a1", SetState.DOWN), new RouteChange.SetSetState("a2", SetState.DRAINING)));
        assertThat(readSets(engine.current())).containsOnly("a3", "a4");
        engine.apply(List.of(new RouteChange.SetSetState("a3", SetState.DOWN), new RouteChange.SetSetState("a4", SetState.DOWN)));
        assertThat(readSets(engine.current())).containsOnly("b1", "b2");
        engine.apply(List.of(new RouteChange.SetSetState("b1", SetState.DOWN), new RouteChange.SetSetState("b2", SetState.DOWN)));
        assertThat(engine.current().resolve(1, RouteClass.READ, WriteFailover.FAIL)).isEqualTo(RouteTable.NO_ROUTE);
        assertThat(engine.current().resolve(1, RouteClass.CENTER, WriteFailover.FAIL)).isEqualTo(RouteTable.NO_ROUTE);
    }

    @Test
    void theReadPreferenceIsConfigurable() {
        RouteTable nearest = sixSets();
        RouteTable.Builder cityBuilder = RouteTable.builder(new Locality("A", "a-1", ReadPreference.CITY), SLOTS);
        RouteTable.Builder cityOnlyBuilder = RouteTable.builder(new Locality("A", "a-1", ReadPreference.CITY_ONLY), SLOTS);
        for (CellSet s : nearest.sets()) {
            cityBuilder.addSet(s);
            cityOnlyBuilder.addSet(s);
        }
        cityBuilder.apply(new RouteChange.MoveSlots(0, SLOTS - 1, "a1"));
        cityOnlyBuilder.apply(new RouteChange.MoveSlots(0, SLOTS - 1, "a1"));
        RouteTable city = cityBuilder.build(1);
        assertThat(readSets(city)).contains("a1", "a2", "a3", "a4").doesNotContain("b1", "b2");
        RouteEngine cityOnly = new RouteEngine(cityOnlyBuilder.build(1));
        cityOnly.apply(List.of(new RouteChange.SetSetState("a1", SetState.DOWN), new RouteChange.SetSetState("a2", SetState.DOWN),
                new RouteChange.SetSetState("a3", SetState.DOWN), new RouteChange.SetSetState("a4", SetState.DOWN)));
        assertThat(cityOnly.current().resolve(1, RouteClass.READ, WriteFailover.FAIL)).isEqualTo(RouteTable.NO_ROUTE);
        assertThat(cityOnly.current().locality().readPreference()).isEqualTo(ReadPreference.CITY_ONLY);
    }

    @Test
    void centerCommandsGoToTheCenterSet() {
        RouteTable t = sixSets();
        assertThat(t.set(t.resolve(99, RouteClass.CENTER, WriteFailover.FAIL)).name()).isEqualTo("b1");
    }

    @Test
    void invalidChangesNameTheValueAndPublishNothing() {
        RouteEngine engine = new RouteEngine(sixSets());
        assertThatThrownBy(() -> engine.apply(List.of(new RouteChange.MoveSlots(0, 10, "a1"), new RouteChange.MoveSlots(5, 1, "a2"))))
                .isInstanceOf(RouteException.class).hasMessage("slots: 5-1 (expected: a range within 0-16383)");
        assertThatThrownBy(() -> engine.apply(List.of(new RouteChange.SetOverride(1, "zz"))))
                .hasMessageStartingWith("set: zz (expected: one of");
        assertThatThrownBy(() -> engine.apply(List.of(new RouteChange.ForbidCity("Atlantis", true))))
                .hasMessage("city: Atlantis (expected: a city of a known set)");
        assertThat(engine.current().epoch()).isEqualTo(1);
        RouteTable.Builder b = RouteTable.builder("A", "a-1", 8);
        b.addSet(new CellSet("x", "A", "a-1", SetState.UP, 1, List.of()));
        b.apply(new RouteChange.MoveSlots(0, 6, "x"));
        assertThatThrownBy(() -> b.build(1)).hasMessage("slot 7: no write-point set (expected: every slot 0..7 assigned)");
    }

    private static List<String> readSets(RouteTable t) {
        List<String> names = new ArrayList<>();
        for (long uid = 0; uid < 2000; uid++) {
            names.add(t.set(t.resolve(uid, RouteClass.READ, WriteFailover.FAIL)).name());
        }
        return names;
    }

    private static final long[] UID_BY_SLOT = new long[SLOTS];

    static {
        int found = 0;
        java.util.Arrays.fill(UID_BY_SLOT, -1);
        for (long uid = 0; found < SLOTS; uid++) {
            int slot = SlotHash.slotOf(uid, SLOTS);
            if (UID_BY_SLOT[slot] < 0) {
                UID_BY_SLOT[slot] = uid;
                found++;
            }
        }
    }

    /** A uid whose slot is {@code slot}. */
    static long uidInSlot(int slot) {
        return UID_BY_SLOT[slot];
    }

    @Test
    void aCitySwitchIsRecordedStoredAndItsUndoKeepsLaterMoves() {
        RouteEngine engine = new RouteEngine(sixSets());
        RouteTable before = engine.current();
        CitySwitch forbidding = new CitySwitch("B", "A", CitySwitch.Phase.FORBIDDING, 0, 1_700_000_000_000L, false, List.of(), List.of());
        RouteTable forbidden = engine.apply(List.of(new RouteChange.ForbidCity("B", true), new RouteChange.RecordCitySwitch(forbidding)));
        // A forbid epoch of 0 becomes the epoch the change is applied at, the city's fence.
        assertThat(forbidden.citySwitch().forbidEpoch()).isEqualTo(forbidden.epoch()).isEqualTo(forbidden.fenceEpochs().get("B"));
        int b1 = before.indexOf("b1");
        int firstB = -1;
        for (int slot = 0; slot < SLOTS && firstB < 0; slot++) {
            firstB = before.setOfSlot(slot) == b1 ? slot : -1;
        }
        long user = 5;
        List<RouteChange> moves = List.of(new RouteChange.MoveSlots(firstB, SLOTS - 1, "a1"), new RouteChange.SetOverride(user, "a2"));
        RouteTable withOverride = engine.apply(List.of(new RouteChange.SetOverride(user, "b2")));
        List<RouteChange> undo = CitySwitch.undoOf(withOverride, moves);
        assertThat(undo).contains(new RouteChange.SetOverride(user, "b2"));
        assertThat(undo).filteredOn(c -> c instanceof RouteChange.MoveSlots).extracting(c -> ((RouteChange.MoveSlots) c).set())
                .containsExactly("b1", "b2");
        List<RouteChange> batch = new java.util.ArrayList<>(moves);
        batch.add(new RouteChange.ForbidCity("B", false));
        batch.add(new RouteChange.RecordCitySwitch(withOverride.citySwitch().advance(CitySwitch.Phase.DONE, undo)));
        RouteTable done = engine.apply(batch);
        assertThat(done.citySwitch().phase()).isEqualTo(CitySwitch.Phase.DONE);
        assertThat(done.citySwitch().forbidEpoch()).isEqualTo(forbidden.epoch());

        // Stored and read back whole.
        RouteTable decoded = RouteTable.decode(done.encode(), done.locality());
        assertThat(decoded.citySwitch()).isEqualTo(done.citySwitch());
        assertThat(decoded.sameRoutes(done)).isTrue();
        assertThat(RouteDiff.between(withOverride, done)).contains("city switch: B -> A DONE (writes of B forbidden at epoch "
                + forbidden.epoch() + ")");

        // A later move of some switched slots elsewhere is kept by the undo; the rest goes back.
        engine.apply(List.of(new RouteChange.MoveSlots(SLOTS - 10, SLOTS - 1, "b2")));
        List<RouteChange> back = CitySwitch.stillIn(engine.current(), "A", done.citySwitch().undo());
        RouteTable rolledBack = engine.apply(back);
        assertThat(rolledBack.set(rolledBack.setOfSlot(firstB)).name()).isEqualTo("b1");
        assertThat(rolledBack.set(rolledBack.setOfSlot(SLOTS - 11)).name()).isEqualTo("b2");
        assertThat(rolledBack.set(rolledBack.writePointOf(user)).name()).isEqualTo("b2");
        // A replace (a reload) keeps the record when it brings none.
        assertThat(engine.replace(sixSets()).citySwitch()).isEqualTo(rolledBack.citySwitch());
        assertThatThrownBy(() -> new CitySwitch("A", "A", CitySwitch.Phase.DONE, 1, 0, false, List.of(), List.of()))
                .isInstanceOf(RouteException.class);
    }

    @Test
    void twoThreadsCopyOneSnapshotAtOnceAndBothGetEveryEntry() throws Exception {
        RouteTable.Builder b = RouteTable.builder("A", "A1", 1024)
                .addSet(new CellSet("a", "A", "A1", SetState.UP, 1, List.of()))
                .apply(new RouteChange.MoveSlots(0, 1023, "a"));
        for (long uid = 1; uid <= 20_000; uid++) {
            b.apply(new RouteChange.SetOverride(uid * 31, "a"));
            if (uid % 4 == 0) {
                b.apply(new RouteChange.RevokeUser(uid, 4_000_000_000L));
            }
        }
        RouteTable table = b.build(1);
        // The store's watch and the engine's writer both build on the current snapshot.
        java.util.concurrent.Callable<Boolean> copies = () -> {
            for (int i = 0; i < 50; i++) {
                RouteTable copy = table.toBuilder().build(2);
                if (copy.overrideCount() != 20_000 || copy.revocationCount() != 5_000) {
                    return false;
                }
            }
            return true;
        };
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            var first = two.submit(copies);
            var second = two.submit(copies);
            assertThat(first.get()).isTrue();
            assertThat(second.get()).isTrue();
        } finally {
            two.shutdownNow();
        }
    }
}
