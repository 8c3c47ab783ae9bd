package io.cellgate.route;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What differs between two route tables, one line per difference, for operators. */
public final class RouteDiff {
    private RouteDiff() {
    }

    public static List<String> between(RouteTable before, RouteTable after) {
        List<String> lines = new ArrayList<>();
        for (CellSet s : after.sets()) {
            int i = before.indexOf(s.name());
            if (i < 0) {
                lines.add("set " + s.name() + ": added");
                continue;
            }
            CellSet old = before.set(i);
            if (old.state() != s.state()) {
                lines.add("set " + s.name() + ": state " + old.state() + " -> " + s.state());
            }
            if (!old.endpoints().equals(s.endpoints())) {
                lines.add("set " + s.name() + ": endpoints " + old.endpoints() + " -> " + s.endpoints());
            }
            if (!old.serviceEndpoints().equals(s.serviceEndpoints())) {
                lines.add("set " + s.name() + ": service endpoints " + old.serviceEndpoints() + " -> " + s.serviceEndpoints());
            }
        }
        for (CellSet s : before.sets()) {
            if (after.indexOf(s.name()) < 0) {
                lines.add("set " + s.name() + ": removed");
            }
        }
        after.forEachRevocation((uid, until) -> {
            if (before.revokedUntil(uid) != until) {
                lines.add("user " + Long.toUnsignedString(uid) + ": revoked until " + java.time.Instant.ofEpochSecond(until));
            }
        });
        before.forEachRevocation((uid, until) -> {
            if (after.revokedUntil(uid) == 0) {
                lines.add("user " + Long.toUnsignedString(uid) + ": revocation lifted");
            }
        });
        if (before.slotCount() == after.slotCount()) {
            int n = after.slotCount();
            for (int slot = 0; slot < n; ) {
                String was = name(before, before.setOfSlot(slot));
                String now = name(after, after.setOfSlot(slot));
                int end = slot;
                while (end + 1 < n && name(before, before.setOfSlot(end + 1)).equals(was)
                        && name(after, after.setOfSlot(end + 1)).equals(now)) {
                    end++;
                }
                if (!was.equals(now)) {
                    lines.add("slots " + slot + "-" + end + ": " + was + " -> " + now);
                }
                slot = end + 1;
            }
            for (int slot = 0; slot < n; ) {
                boolean was = before.isSlotWriteForbidden(slot);
                boolean now = after.isSlotWriteForbidden(slot);
                int end = slot;
                while (end + 1 < n && before.isSlotWriteForbidden(end + 1) == was && after.isSlotWriteForbidden(end + 1) == now) {
                    end++;
                }
                if (was != now) {
                    lines.add("slots " + slot + "-" + end + ": writes " + (now ? "forbidden" : "allowed"));
                }
                slot = end + 1;
            }
        } else {
            lines.add("slots: " + before.slotCount() + " -> " + after.slotCount());
        }
        before.forEachOverride((uid, set) -> {
            int now = after.overrideOf(uid);
            if (now < 0) {
                lines.add("user " + Long.toUnsignedString(uid) + ": override " + before.set(set).name() + " removed");
            } else if (!after.set(now).name().equals(before.set(set).name())) {
                lines.add("user " + Long.toUnsignedString(uid) + ": override " + before.set(set).name() + " -> " + after.set(now).name());
            }
        });
        after.forEachOverride((uid, set) -> {
            if (before.overrideOf(uid) < 0) {
                lines.add("user " + Long.toUnsignedString(uid) + ": override " + after.set(set).name() + " added");
            }
        });
        for (String city : after.forbiddenCities()) {
            if (!before.forbiddenCities().contains(city)) {
                lines.add("city " + city + ": writes forbidden");
            }
        }
        for (String city : before.forbiddenCities()) {
            if (!after.forbiddenCities().contains(city)) {
                lines.add("city " + city + ": writes allowed");
            }
        }
        if (after.citySwitch() != null && !after.citySwitch().equals(before.citySwitch())) {
            lines.add("city switch: " + after.citySwitch().describe());
        }
        if (!Objects.equals(before.centerSetName(), after.centerSetName())) {
            lines.add("center set: " + before.centerSetName() + " -> " + after.centerSetName());
        }
        return lines;
    }

    private static String name(RouteTable t, int index) {
        return t.set(index).name();
    }
}
