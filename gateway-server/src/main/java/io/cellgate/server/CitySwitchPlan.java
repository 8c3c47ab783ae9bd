package io.cellgate.server;

import io.cellgate.route.CellSet;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.cellgate.route.SlotHash;
import java.util.ArrayList;
import java.util.List;

/**
 * The new write points of a city switch: every slot (and per-user override) whose write point is in
 * {@code from} moves to an UP set of {@code to}, chosen per slot by rendezvous hashing so the moved
 * users spread evenly and a repeated plan gives the same answer.
 */
final class CitySwitchPlan {
    private CitySwitchPlan() {
    }

    static List<RouteChange> changes(RouteTable t, String from, String to) {
        if (from.equals(to)) {
            throw new IllegalArgumentException("--to: " + to + " (expected: a city other than --from)");
        }
        List<Integer> targets = new ArrayList<>();
        boolean fromKnown = false;
        for (int i = 0; i < t.sets().size(); i++) {
            CellSet s = t.set(i);
            fromKnown |= s.city().equals(from);
            if (s.city().equals(to) && s.state() == SetState.UP) {
                targets.add(i);
            }
        }
        if (!fromKnown) {
            throw new IllegalArgumentException("--from: " + from + " (expected: the city of a set)");
        }
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("--to: " + to + " (expected: a city with at least one UP set)");
        }
        List<RouteChange> changes = new ArrayList<>();
        int n = t.slotCount();
        for (int slot = 0; slot < n; ) {
            if (!t.set(t.setOfSlot(slot)).city().equals(from)) {
                slot++;
                continue;
            }
            int target = pick(slot, targets, t);
            int end = slot;
            while (end + 1 < n && t.set(t.setOfSlot(end + 1)).city().equals(from) && pick(end + 1, targets, t) == target) {
                end++;
            }
            changes.add(new RouteChange.MoveSlots(slot, end, t.set(target).name()));
            slot = end + 1;
        }
        t.forEachOverride((uid, set) -> {
            if (t.set(set).city().equals(from)) {
                changes.add(new RouteChange.SetOverride(uid, t.set(pick(SlotHash.slotOf(uid, n), targets, t)).name()));
            }
        });
        return changes;
    }

    private static int pick(int slot, List<Integer> targets, RouteTable t) {
        int best = -1;
        long bestScore = 0;
        for (int candidate : targets) {
            long score = SlotHash.fmix64(slot * 0x9E3779B97F4A7C15L ^ t.set(candidate).name().hashCode());
            if (best < 0 || Long.compareUnsigned(score, bestScore) > 0) {
                best = candidate;
                bestScore = score;
            }
        }
        return best;
    }
}
