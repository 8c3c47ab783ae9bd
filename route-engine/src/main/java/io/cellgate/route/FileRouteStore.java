package io.cellgate.route;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The embedded {@link RouteStore}: a directory holding a full snapshot and an append-only change log.
 *
 * <ul>
 *   <li>{@code routes.snapshot}: the whole table as text lines ({@link RouteCodec}), ending with
 *       {@code end <crc32c>} over everything before it. Written to a temporary file, forced to disk,
 *       then renamed over the old one (which is kept as {@code routes.snapshot.prev}).</li>
 *   <li>{@code routes.log}: one line per applied batch, {@code <epoch> <crc32c> <change>;<change>...},
 *       the checksum covering {@code <epoch> <changes>}; appended and forced to disk before the batch
 *       is published. After {@link #compactEvery} records the log is folded into a new snapshot.</li>
 * </ul>
 *
 * <p>Loading takes the snapshot (or, when it is corrupt, the previous one), then replays the log's
 * records that follow it in epoch order. A torn or corrupt record ends the replay; everything skipped
 * is reported, never thrown. Not thread-safe: the route engine's single writer calls it.
 */
public final class FileRouteStore implements RouteStore {
    static final String SNAPSHOT = "routes.snapshot";
    static final String PREVIOUS = "routes.snapshot.prev";
    static final String LOG = "routes.log";
    private static final String HEADER = "cellgate-routes-snapshot v1";

    private final Path dir;
    private final int compactEvery;
    private int records;
    /**
     * A write failed: the log may end in a torn record, after which an appended one would never be
     * replayed. The next write is then a whole snapshot with an empty log.
     */
    private boolean needsRewrite;

    public FileRouteStore(Path dir) throws IOException {
        this(dir, 1000);
    }

    public FileRouteStore(Path dir, int compactEvery) throws IOException {
        this.dir = dir;
        this.compactEvery = compactEvery;
        Files.createDirectories(dir);
    }

    public Path directory() {
        return dir;
    }

    /** When the store was last written (its newest file), in epoch millis; 0 for an empty store. */
    public long lastWriteMillis() {
        long newest = 0;
        for (String name : new String[] {SNAPSHOT, LOG}) {
            try {
                newest = Math.max(newest, Files.getLastModifiedTime(dir.resolve(name)).toMillis());
            } catch (IOException e) {
                // absent: ignore
            }
        }
        return newest;
    }

    @Override
    public Loaded load(Locality locality) throws IOException {
        List<String> problems = new ArrayList<>();
        RouteTable table = readSnapshot(dir.resolve(SNAPSHOT), locality, problems);
        if (table == null && Files.exists(dir.resolve(PREVIOUS))) {
            table = readSnapshot(dir.resolve(PREVIOUS), locality, problems);
            if (table != null) {
                problems.add(PREVIOUS + ": using the previous snapshot, epoch " + table.epoch());
            }
        }
        if (table == null) {
            if (Files.exists(dir.resolve(LOG)) && Files.size(dir.resolve(LOG)) > 0) {
                problems.add(LOG + ": ignored, no valid snapshot to apply it to");
            }
            return new Loaded(null, problems);
        }
        records = 0;
        byte[] log;
        try {
            log = Files.readAllBytes(dir.resolve(LOG));
        } catch (NoSuchFileException e) {
            log = new byte[0];
        }
        int offset = 0;
        while (offset < log.length) {
            int newline = indexOf(log, (byte) '\n', offset);
            if (newline < 0) {
                problems.add(LOG + ": skipped a torn record at byte " + offset + " (" + (log.length - offset) + " bytes, no end of line)");
                break;
            }
            String line = new String(log, offset, newline - offset, StandardCharsets.UTF_8);
            String[] parts = line.split(" ", 3);
            RouteTable next = null;
            String problem = null;
            if (parts.length != 3 || !checksum(parts[0] + " " + parts[2]).equals(parts[1])) {
                problem = "a corrupt record (checksum mismatch)";
            } else {
                try {
                    long epoch = Long.parseLong(parts[0]);
                    if (epoch <= table.epoch()) {
                        offset = newline + 1;
                        continue; // already in the snapshot (a compaction was interrupted)
                    }
                    if (epoch != table.epoch() + 1) {
                        problem = "a gap: record epoch " + epoch + " after epoch " + table.epoch();
                    } else {
                        RouteTable.Builder b = table.toBuilder();
                        for (String change : parts[2].split(";")) {
                            b.apply(RouteCodec.decode(change));
                        }
                        next = b.build(epoch);
                    }
                } catch (RuntimeException e) {
                    problem = "an unreadable record (" + e.getMessage() + ")";
                }
            }
            if (problem != null) {
                problems.add(LOG + ": stopped at byte " + offset + ": " + problem + "; skipped " + (log.length - offset) + " bytes");
                break;
            }
            table = next;
            records++;
            offset = newline + 1;
        }
        if (offset < log.length) {
            // Keep the good prefix only, so new records follow the state that was loaded.
            replace(table);
        }
        return new Loaded(table, problems);
    }

    @Override
    public void append(List<? extends RouteChange> changes, RouteTable next) throws IOException {
        if (records >= compactEvery || needsRewrite) {
            replace(next);
            return;
        }
        StringBuilder body = new StringBuilder();
        for (RouteChange change : changes) {
            if (body.length() > 0) {
                body.append(';');
            }
            body.append(RouteCodec.encode(change));
        }
        String epoch = Long.toString(next.epoch());
        String line = epoch + " " + checksum(epoch + " " + body) + " " + body + "\n";
        try (FileChannel ch = FileChannel.open(dir.resolve(LOG), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(false);
        } catch (IOException | RuntimeException e) {
            // The caller fails the change (nothing is published); the store recovers on its next write.
            needsRewrite = true;
            throw e;
        }
        records++;
    }

    @Override
    public void replace(RouteTable table) throws IOException {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        for (String line : RouteCodec.encode(table)) {
            text.append(line).append('\n');
        }
        String sum = checksum(text.toString());
        text.append("end ").append(sum).append('\n');
        Path snapshot = dir.resolve(SNAPSHOT);
        if (Files.exists(snapshot)) {
            Files.copy(snapshot, dir.resolve(PREVIOUS), StandardCopyOption.REPLACE_EXISTING);
        }
        needsRewrite = true;
        writeAtomically(snapshot, text.toString().getBytes(StandardCharsets.UTF_8));
        writeAtomically(dir.resolve(LOG), new byte[0]);
        records = 0;
        needsRewrite = false;
    }

    private RouteTable readSnapshot(Path file, Locality locality, List<String> problems) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (java.nio.charset.MalformedInputException e) {
            problems.add(file.getFileName() + ": ignored, not valid UTF-8");
            return null;
        }
        int endAt = text.lastIndexOf("end ");
        if (!text.startsWith(HEADER + "\n") || endAt < 0 || !text.endsWith("\n")
                || !text.substring(endAt + 4, text.length() - 1).equals(checksum(text.substring(0, endAt)))) {
            problems.add(file.getFileName() + ": ignored, truncated or corrupt (checksum mismatch)");
            return null;
        }
        List<String> lines = Arrays.asList(text.substring(HEADER.length() + 1, endAt).split("\n"));
        try {
            return RouteCodec.decode(lines, locality);
        } catch (RuntimeException e) {
            problems.add(file.getFileName() + ": ignored, unreadable: " + e.getMessage());
            return null;
        }
    }

    private void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        // Make the rename itself durable.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot open a directory for sync; the rename is still atomic.
        }
    }

    static String checksum(String s) {
        CRC32C crc = new CRC32C();
        crc.update(s.getBytes(StandardCharsets.UTF_8));
        return String.format("%08x", crc.getValue());
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
