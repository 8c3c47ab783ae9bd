package io.cellgate.route;

import java.util.ArrayList;
import java.util.List;

/**
 * A route table cut into parts a shared store can keep under a size limit per value, and put back
 * together: a <b>head</b> (everything but the per-user entries: sets, slots, forbids, fences, the
 * city switch; kilobytes), the <b>users</b> (per-user overrides and revocations, up to millions of
 * lines) in chunks of bounded size, and <b>batches</b> (the changes of one epoch, as applied).
 *
 * <p>A store holds a base (head and user chunks as of some epoch) plus the batches written since;
 * {@link #assemble} rebuilds the table from them. The per-user changes ({@link #isPerUser}) set or
 * clear one user's entry outright, whatever it held before, so replaying the batches after the base
 * gives the same table the writers had.
 *
 * <p>The text is {@link RouteTable#encode()}'s, one item per line.
 */
public final class RouteParts {
    /** What a batch holds in place of its changes when the whole table was replaced at its epoch. */
    public static final String REPLACED = "replaced";

    private RouteParts() {
    }

    /** The table without its per-user entries, epoch first. */
    public static String head(RouteTable table) {
        return String.join("\n", RouteCodec.encodeHead(table)) + "\n";
    }

    /** The table's per-user entries as text chunks of at most {@code maxBytes} each (one line never splits). */
    public static List<String> userChunks(RouteTable table, int maxBytes) {
        List<String> chunks = new ArrayList<>();
        StringBuilder chunk = new StringBuilder();
        RouteCodec.encodeUsers(table, line -> {
            // Lines are ASCII: characters are bytes.
            if (chunk.length() > 0 && chunk.length() + line.length() + 1 > maxBytes) {
                chunks.add(chunk.toString());
                chunk.setLength(0);
            }
            chunk.append(line).append('\n');
        });
        if (chunk.length() > 0) {
            chunks.add(chunk.toString());
        }
        return chunks;
    }

    /** True for a change that sets or clears one user's entry (kept in the user chunks, not the head). */
    public static boolean isPerUser(RouteChange change) {
        return change instanceof RouteChange.SetOverride || change instanceof RouteChange.ClearOverride
                || change instanceof RouteChange.RevokeUser;
    }

    /** True when {@code changes} change the head (anything but per-user entries). */
    public static boolean changesHead(List<? extends RouteChange> changes) {
        for (RouteChange change : changes) {
            if (!isPerUser(change)) {
                return true;
            }
        }
        return false;
    }

    /** A batch as text, one change per line. */
    public static String batch(List<? extends RouteChange> changes) {
        StringBuilder text = new StringBuilder();
        for (RouteChange change : changes) {
            text.append(RouteCodec.encode(change)).append('\n');
        }
        return text.toString();
    }

    /**
     * Reads {@link #batch}'s text.
     *
     * @throws IllegalArgumentException when a line is not a change
     */
    public static List<RouteChange> parseBatch(String text) {
        List<RouteChange> changes = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                changes.add(RouteCodec.decode(line));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("not a route change: " + abbreviate(line) + " (" + e.getMessage() + ")", e);
            }
        }
        return changes;
    }

    /**
     * Rebuilds the table at {@code epoch} from a head that is current at that epoch, the user chunks of
     * an earlier base, and the batches written after that base, oldest first (only their per-user
     * changes are applied: the head holds the rest).
     *
     * @throws IllegalArgumentException when a part is not what it should be
     */
    public static RouteTable assemble(long epoch, String head, List<String> userChunks, List<String> batchesAfterBase,
                                      Locality locality) {
        try {
            RouteTable.Builder builder = RouteCodec.decodeBuilder(head.lines().filter(l -> !l.isBlank()).toList(), locality)
                    .builder();
            for (String chunk : userChunks) {
                for (String line : chunk.split("\n")) {
                    if (!line.isBlank()) {
                        RouteChange change = RouteCodec.decode(line);
                        if (!isPerUser(change)) {
                            throw new IllegalArgumentException("a user chunk holds " + abbreviate(line));
                        }
                        builder.apply(change);
                    }
                }
            }
            for (String batch : batchesAfterBase) {
                if (batch.equals(REPLACED)) {
                    continue;
                }
                for (RouteChange change : parseBatch(batch)) {
                    if (isPerUser(change)) {
                        builder.apply(change);
                    }
                }
            }
            return builder.build(epoch);
        } catch (RouteException | IndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException("not a route table: " + e.getMessage(), e);
        }
    }

    private static String abbreviate(String line) {
        return line.length() <= 80 ? line : line.substring(0, 80) + "...";
    }
}
