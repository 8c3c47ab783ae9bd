package io.cellgate.route;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The last city switch, recorded in the route table so that every gateway sharing the table sees it,
 * and any of them can finish or abort it after the one that started it died.
 *
 * <p>A switch moves the write points of {@code from} to {@code to}: phase {@link Phase#FORBIDDING}
 * forbids writes of {@code from} (at {@code forbidEpoch}) and waits until every live gateway has
 * applied that epoch and has no write in flight to {@code from}; then one batch moves the write
 * points, allows writes again and records {@link Phase#DONE} with the {@code undo}: the write points
 * the switch moved, as they were. A rollback is a switch back ({@code rollback} true), whose
 * {@code plan} is the undo of the switch it reverses; it is applied on top of whatever changed since.
 *
 * @param forbidEpoch     the epoch at which writes of {@code from} were forbidden; 0 in a change means
 *                        "the epoch this change is applied at"
 * @param startedAtMillis wall-clock time the switch started (for operators)
 * @param plan            for a rollback, the write points to restore (moves and overrides); empty for a switch,
 *                        whose plan is made from the table when the write points move
 * @param undo            once done, the moves and overrides that put back what the switch moved
 */
public record CitySwitch(String from, String to, Phase phase, long forbidEpoch, long startedAtMillis, boolean rollback,
                         List<RouteChange> plan, List<RouteChange> undo) {

    /** Where a switch stands. */
    public enum Phase {
        /** Writes of {@code from} are forbidden; the switch waits for the fleet. */
        FORBIDDING,
        /** The write points moved and writes are allowed again. */
        DONE,
        /** Stopped before any write point moved; writes of {@code from} allowed again. */
        ABORTED
    }

    public CitySwitch {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(phase, "phase");
        if (!RouteCodec.NAME.matcher(from).matches() || !RouteCodec.NAME.matcher(to).matches() || from.equals(to)) {
            throw new RouteException("city switch " + from + " -> " + to + " (expected: two different city names)");
        }
        plan = moves(plan);
        undo = moves(undo);
    }

    private static List<RouteChange> moves(List<RouteChange> changes) {
        for (RouteChange c : changes) {
            if (!(c instanceof RouteChange.MoveSlots) && !(c instanceof RouteChange.SetOverride)) {
                throw new RouteException("city switch step: " + c + " (expected: slot moves and overrides only)");
            }
        }
        return List.copyOf(changes);
    }

    /** The same switch in {@code next} phase, with {@code undoSteps}. */
    public CitySwitch advance(Phase next, List<RouteChange> undoSteps) {
        return new CitySwitch(from, to, next, forbidEpoch, startedAtMillis, rollback, plan, undoSteps);
    }

    CitySwitch atEpoch(long epoch) {
        return new CitySwitch(from, to, phase, epoch, startedAtMillis, rollback, plan, undo);
    }

    /** What {@code moves} change, as {@code before} has it: applied after the moves, it restores those write points. */
    public static List<RouteChange> undoOf(RouteTable before, List<RouteChange> moves) {
        List<RouteChange> undo = new ArrayList<>();
        for (RouteChange c : moves) {
            if (c instanceof RouteChange.MoveSlots m) {
                int slot = m.fromSlot();
                while (slot <= m.toSlot()) {
                    int set = before.setOfSlot(slot);
                    int end = slot;
                    while (end < m.toSlot() && before.setOfSlot(end + 1) == set) {
                        end++;
                    }
                    undo.add(new RouteChange.MoveSlots(slot, end, before.set(set).name()));
                    slot = end + 1;
                }
            } else if (c instanceof RouteChange.SetOverride o) {
                int set = before.overrideOf(o.uid());
                if (set >= 0) {
                    undo.add(new RouteChange.SetOverride(o.uid(), before.set(set).name()));
                }
            }
        }
        return undo;
    }

    /**
     * The part of {@code steps} that still applies to {@code now}: the slots and overrides whose write
     * point is still in {@code city} (a later operator change that moved them elsewhere is kept).
     */
    public static List<RouteChange> stillIn(RouteTable now, String city, List<RouteChange> steps) {
        List<RouteChange> kept = new ArrayList<>();
        for (RouteChange c : steps) {
            if (c instanceof RouteChange.MoveSlots m) {
                int slot = m.fromSlot();
                while (slot <= m.toSlot()) {
                    if (!now.set(now.setOfSlot(slot)).city().equals(city)) {
                        slot++;
                        continue;
                    }
                    int end = slot;
                    while (end < m.toSlot() && now.set(now.setOfSlot(end + 1)).city().equals(city)) {
                        end++;
                    }
                    kept.add(new RouteChange.MoveSlots(slot, end, m.set()));
                    slot = end + 1;
                }
            } else if (c instanceof RouteChange.SetOverride o) {
                int set = now.overrideOf(o.uid());
                if (set >= 0 && now.set(set).city().equals(city)) {
                    kept.add(o);
                }
            }
        }
        return kept;
    }

    /** One line for operators: "sh -> sz FORBIDDING since epoch 13". */
    public String describe() {
        return (rollback ? "rollback " : "") + from + " -> " + to + " " + phase + " (writes of " + from + " forbidden at epoch "
                + forbidEpoch + ")";
    }
}
