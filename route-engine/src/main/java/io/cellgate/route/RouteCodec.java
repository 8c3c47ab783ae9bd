package io.cellgate.route;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The text form of route tables and changes used by {@link FileRouteStore}: one item per line,
 * space-separated tokens. Names are restricted to {@code [A-Za-z0-9._-]} so no escaping is needed.
 */
final class RouteCodec {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private RouteCodec() {
    }

    static String encode(RouteChange change) {
        if (change instanceof RouteChange.MoveSlots c) {
            return "move " + c.fromSlot() + " " + c.toSlot() + " " + c.set();
        } else if (change instanceof RouteChange.SetOverride c) {
            return "override " + Long.toUnsignedString(c.uid()) + " " + c.set();
        } else if (change instanceof RouteChange.ClearOverride c) {
            return "clear-override " + Long.toUnsignedString(c.uid());
        } else if (change instanceof RouteChange.ForbidSlots c) {
            return (c.forbidden() ? "forbid-slots " : "allow-slots ") + c.fromSlot() + " " + c.toSlot();
        } else if (change instanceof RouteChange.ForbidCity c) {
            return (c.forbidden() ? "forbid-city " : "allow-city ") + c.city();
        } else if (change instanceof RouteChange.SetSetState c) {
            return "state " + c.set() + " " + c.state();
        } else if (change instanceof RouteChange.RevokeUser c) {
            return "revoke " + Long.toUnsignedString(c.uid()) + " " + c.untilEpochSeconds();
        } else if (change instanceof RouteChange.SetServiceEndpoints c) {
            return "service-endpoints " + c.set() + " " + c.service() + " " + (c.endpoints().isEmpty() ? "-" : String.join(",", c.endpoints()));
        } else if (change instanceof RouteChange.SetEndpoints c) {
            return "endpoints " + c.set() + " " + (c.endpoints().isEmpty() ? "-" : String.join(",", c.endpoints()));
        } else if (change instanceof RouteChange.RecordCitySwitch c) {
            CitySwitch w = c.citySwitch();
            return "city-switch " + w.from() + " " + w.to() + " " + w.phase() + " " + w.forbidEpoch() + " " + w.startedAtMillis() + " "
                    + (w.rollback() ? "rollback" : "switch") + " " + steps(w.plan()) + " " + steps(w.undo());
        }
        throw new AssertionError(change);
    }

    static RouteChange decode(String line) {
        String[] t = line.split(" ");
        switch (t[0]) {
            case "move":
                return new RouteChange.MoveSlots(Integer.parseInt(t[1]), Integer.parseInt(t[2]), t[3]);
            case "override":
                return new RouteChange.SetOverride(Long.parseUnsignedLong(t[1]), t[2]);
            case "clear-override":
                return new RouteChange.ClearOverride(Long.parseUnsignedLong(t[1]));
            case "forbid-slots":
            case "allow-slots":
                return new RouteChange.ForbidSlots(Integer.parseInt(t[1]), Integer.parseInt(t[2]), t[0].startsWith("forbid"));
            case "forbid-city":
            case "allow-city":
                return new RouteChange.ForbidCity(t[1], t[0].startsWith("forbid"));
            case "state":
                return new RouteChange.SetSetState(t[1], SetState.valueOf(t[2]));
            case "revoke":
                return new RouteChange.RevokeUser(Long.parseUnsignedLong(t[1]), Long.parseLong(t[2]));
            case "service-endpoints":
                return new RouteChange.SetServiceEndpoints(t[1], t[2], t[3].equals("-") ? List.of() : Arrays.asList(t[3].split(",")));
            case "endpoints":
                return new RouteChange.SetEndpoints(t[1], t[2].equals("-") ? List.of() : Arrays.asList(t[2].split(",")));
            case "city-switch":
                return new RouteChange.RecordCitySwitch(new CitySwitch(t[1], t[2], CitySwitch.Phase.valueOf(t[3]), Long.parseLong(t[4]),
                        Long.parseLong(t[5]), t[6].equals("rollback"), steps(t[7]), steps(t[8])));
            default:
                throw new IllegalArgumentException("unknown change: " + t[0]);
        }
    }

    /** City switch steps as one token: {@code m:FROM:TO:SET} and {@code o:UID:SET}, comma-separated; {@code -} when none. */
    private static String steps(List<RouteChange> steps) {
        if (steps.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        for (RouteChange c : steps) {
            if (b.length() > 0) {
                b.append(',');
            }
            if (c instanceof RouteChange.MoveSlots m) {
                b.append("m:").append(m.fromSlot()).append(':').append(m.toSlot()).append(':').append(m.set());
            } else {
                RouteChange.SetOverride o = (RouteChange.SetOverride) c;
                b.append("o:").append(Long.toUnsignedString(o.uid())).append(':').append(o.set());
            }
        }
        return b.toString();
    }

    private static List<RouteChange> steps(String token) {
        if (token.equals("-")) {
            return List.of();
        }
        List<RouteChange> steps = new ArrayList<>();
        for (String step : token.split(",")) {
            String[] p = step.split(":");
            switch (p[0]) {
                case "m" -> steps.add(new RouteChange.MoveSlots(Integer.parseInt(p[1]), Integer.parseInt(p[2]), p[3]));
                case "o" -> steps.add(new RouteChange.SetOverride(Long.parseUnsignedLong(p[1]), p[2]));
                default -> throw new IllegalArgumentException("city switch step: " + step);
            }
        }
        return steps;
    }

    /** The whole table as lines: its head ({@link #encodeHead}), then its users' entries ({@link #encodeUsers}). */
    static List<String> encode(RouteTable table) {
        List<String> lines = encodeHead(table);
        encodeUsers(table, lines::add);
        return lines;
    }

    /**
     * The table without its per-user entries: epoch, slot count, center, sets, slot ranges, forbids,
     * fences and the city switch. Forbidden cities come before fences: a city forbidden by a change
     * takes the building epoch as its fence unless a fence line follows.
     */
    static List<String> encodeHead(RouteTable table) {
        List<String> lines = new ArrayList<>();
        lines.add("epoch " + table.epoch());
        lines.add("slots " + table.slotCount());
        if (table.centerSetName() != null) {
            lines.add("center " + table.centerSetName());
        }
        for (CellSet s : table.sets()) {
            lines.add("set " + s.name() + " " + s.city() + " " + s.idc() + " " + s.state() + " " + s.weight() + " "
                    + (s.endpoints().isEmpty() ? "-" : String.join(",", s.endpoints())));
            s.serviceEndpoints().forEach((service, endpoints) ->
                    lines.add(encode(new RouteChange.SetServiceEndpoints(s.name(), service, endpoints))));
        }
        int from = 0;
        for (int slot = 1; slot <= table.slotCount(); slot++) {
            if (slot == table.slotCount() || table.setOfSlot(slot) != table.setOfSlot(from)) {
                lines.add(encode(new RouteChange.MoveSlots(from, slot - 1, table.set(table.setOfSlot(from)).name())));
                from = slot;
            }
        }
        int start = -1;
        for (int slot = 0; slot <= table.slotCount(); slot++) {
            boolean forbidden = slot < table.slotCount() && table.isSlotWriteForbidden(slot);
            if (forbidden && start < 0) {
                start = slot;
            } else if (!forbidden && start >= 0) {
                lines.add(encode(new RouteChange.ForbidSlots(start, slot - 1, true)));
                start = -1;
            }
        }
        for (String city : table.forbiddenCities()) {
            lines.add(encode(new RouteChange.ForbidCity(city, true)));
        }
        table.fenceEpochs().forEach((city, epoch) -> lines.add("fence " + city + " " + epoch));
        if (table.citySwitch() != null) {
            lines.add(encode(new RouteChange.RecordCitySwitch(table.citySwitch())));
        }
        return lines;
    }

    /**
     * The per-user entries, overrides then revocations, each in unsigned uid order (so two tables with
     * the same entries encode alike, whatever order their maps hold them in).
     */
    static void encodeUsers(RouteTable table, java.util.function.Consumer<String> out) {
        long[] uids = new long[table.overrideCount()];
        int[] n = {0};
        table.forEachOverride((uid, set) -> uids[n[0]++] = uid);
        sortUnsigned(uids);
        for (long uid : uids) {
            out.accept(encode(new RouteChange.SetOverride(uid, table.set(table.overrideOf(uid)).name())));
        }
        java.util.TreeMap<Long, Long> revoked = new java.util.TreeMap<>(Long::compareUnsigned);
        table.forEachRevocation(revoked::put);
        revoked.forEach((uid, until) -> out.accept(encode(new RouteChange.RevokeUser(uid, until))));
    }

    /** Sorts {@code values} as unsigned numbers: flipping the sign bit maps unsigned order onto signed order. */
    private static void sortUnsigned(long[] values) {
        for (int i = 0; i < values.length; i++) {
            values[i] ^= Long.MIN_VALUE;
        }
        Arrays.sort(values);
        for (int i = 0; i < values.length; i++) {
            values[i] ^= Long.MIN_VALUE;
        }
    }

    /** Rebuilds a table from {@link #encode(RouteTable)}'s lines. */
    static RouteTable decode(List<String> lines, Locality locality) {
        Decoded d = decodeBuilder(lines, locality);
        return d.builder().build(d.epoch());
    }

    /** A table's lines read into a builder, not built yet: more entries may follow. */
    record Decoded(long epoch, RouteTable.Builder builder) {
    }

    static Decoded decodeBuilder(List<String> lines, Locality locality) {
        long epoch = -1;
        RouteTable.Builder builder = null;
        String center = null;
        for (String line : lines) {
            String[] t = line.split(" ");
            switch (t[0]) {
                case "epoch" -> epoch = Long.parseLong(t[1]);
                case "slots" -> builder = RouteTable.builder(locality, Integer.parseInt(t[1]));
                case "center" -> center = t[1];
                case "fence" -> require(builder).fence(t[1], Long.parseLong(t[2]));
                case "set" -> require(builder).addSet(new CellSet(t[1], t[2], t[3], SetState.valueOf(t[4]), Integer.parseInt(t[5]),
                        t[6].equals("-") ? List.of() : Arrays.asList(t[6].split(","))));
                default -> require(builder).apply(decode(line));
            }
        }
        if (epoch < 0) {
            throw new IllegalArgumentException("no epoch line");
        }
        return new Decoded(epoch, require(builder).centerSet(center));
    }

    private static RouteTable.Builder require(RouteTable.Builder builder) {
        if (builder == null) {
            throw new IllegalArgumentException("no slots line before the table's content");
        }
        return builder;
    }
}
