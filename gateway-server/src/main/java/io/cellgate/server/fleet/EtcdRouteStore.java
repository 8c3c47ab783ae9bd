package io.cellgate.server.fleet;

import io.cellgate.route.FileRouteStore;
import io.cellgate.route.Locality;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteConflictException;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteParts;
import io.cellgate.route.RouteStore;
import io.cellgate.route.RouteTable;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Logger;

/**
 * The route store of a fleet: the table lives in etcd in parts, every gateway's engine writes it with
 * compare-and-swap on the epoch, and every gateway watches the batches and applies what the others
 * wrote. A local {@link FileRouteStore} keeps the last-known-good copy, so a gateway boots and serves
 * while etcd is down.
 *
 * <p>Keys under the fleet's prefix ({@link RouteParts} says what each part holds):
 * <pre>
 *   routes/epoch                 the epoch, decimal: the compare-and-swap target
 *   routes/head                  the table without its per-user entries, current at the epoch
 *   routes/base                  "EPOCH GENERATION": the per-user entries as of EPOCH are under users/GENERATION/
 *   routes/users/GENERATION/N    the per-user entries (overrides, revocations) in chunks of at most 256 KiB
 *   routes/log/EPOCH             the batch of changes made at EPOCH (20 digits), for every epoch after the base
 * </pre>
 *
 * <p>Writes: a batch is one transaction that succeeds only when {@code routes/epoch} still holds the
 * epoch the batch was made against; it writes the epoch, its log key and, when the batch changes more
 * than per-user entries, the head. Its size is the batch's, whatever the table's. A whole table (the
 * first seed, a reload) is written as a new generation of chunks, then switched to in one
 * transaction that also writes the head and a log key saying {@code replaced}. When the log since the
 * base grows past {@link #FOLD_BATCHES} batches or half the base's size (at least {@link #FOLD_BYTES}),
 * the gateway that wrote the batch folds it: it writes the table as a new generation and switches the
 * base to it (compare-and-swap on {@code routes/base}), deleting the log it folded and older
 * generations.
 *
 * <p>Reads: everything at one etcd revision (epoch, head, base, the base's chunks, the log after it),
 * put together by {@link RouteParts#assemble}. A watch on {@code routes/log/} from the last revision
 * seen applies each batch to the current table when it follows it, and reads everything again when it
 * does not (a gap, a replaced table) or when etcd compacted the revisions the watch needs.
 *
 * <p>Threading: {@link #append} and {@link #replace} run on the engine's writer (its monitor held);
 * watch events and reads after a gap run on the fleet thread and reach the engine through
 * {@link RouteEngine#adopt}; folds run on their own thread ({@code cellgate-route-fold}), so a
 * gateway folding a large table keeps applying batches. The local copy is written under its own lock,
 * newest epoch only.
 */
public final class EtcdRouteStore implements RouteStore, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EtcdRouteStore.class.getName());
    private static final String REVISION_FILE = "etcd-revision";
    /** The largest user chunk: well under etcd's default request limit (1.5 MiB), several per page read. */
    static final int CHUNK_BYTES = 256 * 1024;
    /** Fold the log after this many batches... */
    static final int FOLD_BATCHES = 1000;
    /** ...or when it holds more bytes than this and more than half the base's chunks. */
    static final long FOLD_BYTES = 8L << 20;
    private static final String LOG_PREFIX = "routes/log/";
    private static final String USERS_PREFIX = "routes/users/";
    /** Chunks and log entries read per request: a page stays under the client's inbound limit. */
    private static final int PAGE = 16;

    private final EtcdFleet fleet;
    private final FileRouteStore local;
    private final Path localDir;
    private final ByteSequence epochKey;
    private final ByteSequence headKey;
    private final ByteSequence baseKey;
    /** The whole table as one value: how stores before the parts kept it; read once to migrate. */
    private final ByteSequence legacyTableKey;
    private final ExecutorService folder;
    private RouteEngine engine;
    private Locality locality;
    /** The etcd revision of the newest routes this gateway has seen (written or watched). */
    private volatile long revision;
    /** The epoch of the last batch this gateway wrote itself: the writer of a batch decides on a fold. */
    private volatile long lastWritten;
    /** What this gateway knows of the log since the base; fleet thread only. */
    private long baseEpoch;
    private long baseBytes;
    private long logBatches;
    private long logBytes;
    private boolean folding;
    private int foldBatches = FOLD_BATCHES;
    private long foldBytes = FOLD_BYTES;
    /** The epoch of the table in the local copy. */
    private long localEpoch = -1;
    private Watch.Watcher watcher;
    private volatile boolean closed;

    public EtcdRouteStore(EtcdFleet fleet, Path localDir) throws IOException {
        this.fleet = fleet;
        this.localDir = localDir;
        this.local = new FileRouteStore(localDir);
        this.epochKey = fleet.key("routes/epoch");
        this.headKey = fleet.key("routes/head");
        this.baseKey = fleet.key("routes/base");
        this.legacyTableKey = fleet.key("routes/table");
        this.folder = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cellgate-route-fold");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The routes to start with: the table in etcd (seeded from {@code seed} when etcd holds none),
     * or the local copy when etcd does not answer.
     *
     * @throws IOException when etcd does not answer and there is no local copy either
     */
    public RouteTable boot(RouteTable seed) throws IOException {
        this.locality = seed.locality();
        // With no local copy there is nothing to serve without etcd: a gateway starting cold (its first
        // request to etcd opens the connection and loads the client) waits a while before it gives up.
        long giveUp = System.nanoTime() + Math.max(STARTUP_WAIT.toNanos(), 2 * fleet.config().timeout().toNanos());
        boolean told = false;
        while (true) {
            try {
                long started = System.nanoTime();
                Stored stored = readAll(locality);
                if (stored != null) {
                    long millis = (System.nanoTime() - started) / 1_000_000;
                    takeStock(stored);
                    keepLocal(null, stored.table());
                    LOG.info(() -> "fleet: routes at epoch " + stored.table().epoch() + " from etcd (revision " + revision
                            + ", " + stored.table().overrideCount() + " overrides, " + stored.logBatches()
                            + " batches after the base, read in " + millis + " ms)");
                    return stored.table();
                }
                return seed(seed);
            } catch (IOException unreachable) {
                Loaded copy = local.load(locality);
                if (copy.table() != null) {
                    return fromLocalCopy(copy, unreachable);
                }
                if (System.nanoTime() - giveUp > 0) {
                    throw new IOException(unreachable.getMessage() + ", and there is no local copy of the routes in " + localDir
                            + " to start from", unreachable);
                }
                if (!told) {
                    told = true;
                    LOG.warning(() -> "fleet: " + unreachable.getMessage() + "; no local copy of the routes in " + localDir
                            + ": waiting up to " + STARTUP_WAIT.toSeconds() + " s for etcd");
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for etcd", e);
                }
            }
        }
    }

    /** How long a gateway with no local copy of the routes waits for etcd at start-up. */
    static final java.time.Duration STARTUP_WAIT = java.time.Duration.ofSeconds(10);

    private RouteTable fromLocalCopy(Loaded copy, IOException unreachable) throws IOException {
        synchronized (local) {
            localEpoch = copy.table().epoch();
        }
        revision = readRevision();
        LOG.warning(() -> "fleet: " + unreachable.getMessage() + "; starting from the local copy at epoch "
                + copy.table().epoch() + " (revision " + revision + ")");
        return copy.table();
    }

    /**
     * Stores {@code seed} when etcd holds no routes yet (or holds them as one value, as stores before
     * the parts did: that table is stored in parts instead); when another gateway seeded first, takes up
     * what it stored.
     */
    private RouteTable seed(RouteTable seed) throws IOException {
        KV kv = fleet.client().getKVClient();
        GetResponse legacy = fleet.await(kv.get(legacyTableKey));
        RouteTable table = seed;
        Cmp guard = new Cmp(epochKey, Cmp.Op.EQUAL, CmpTarget.version(0));
        if (!legacy.getKvs().isEmpty()) {
            KeyValue old = legacy.getKvs().get(0);
            table = decodeWhole(old);
            guard = new Cmp(legacyTableKey, Cmp.Op.EQUAL, CmpTarget.modRevision(old.getModRevision()));
        }
        Generation generation = writeGeneration(table);
        List<Op> ops = replaceOps(table, generation);
        ops.add(Op.delete(legacyTableKey, DeleteOption.DEFAULT));
        TxnResponse txn = fleet.await(kv.txn()
                .If(guard, new Cmp(baseKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(ops.toArray(new Op[0]))
                .commit());
        if (txn.isSucceeded()) {
            RouteTable stored = table;
            revision = txn.getHeader().getRevision();
            keepLocal(null, stored);
            LOG.info(legacy.getKvs().isEmpty()
                    ? () -> "fleet: etcd held no routes; seeded them from the configuration at epoch " + stored.epoch()
                    : () -> "fleet: stored the routes of epoch " + stored.epoch() + " in parts (they were one value)");
            return stored;
        }
        deleteGeneration(generation.name());
        Stored stored = readAll(locality);
        if (stored == null) {
            throw new IOException("etcd: " + EtcdFleet.text(epochKey) + " exists without " + EtcdFleet.text(baseKey));
        }
        takeStock(stored);
        keepLocal(null, stored.table());
        return stored.table();
    }

    /** Starts taking up the batches other gateways write: a watch from the last revision seen. */
    public void start(RouteEngine engine) {
        this.engine = engine;
        fleet.onReconnect(this::watchFromLastRevision);
        fleet.execute(this::watchFromLastRevision);
    }

    @Override
    public Loaded load(Locality locality) throws IOException {
        Stored stored = readAll(locality);
        return new Loaded(stored == null ? null : stored.table(), List.of());
    }

    /** The routes as etcd held them at one revision, and what the parts weigh. */
    private record Stored(RouteTable table, long revision, String base, long baseEpoch, long baseBytes, long logBatches,
                          long logBytes) {
    }

    /** Reads every part at one revision and puts the table together; null when etcd holds no routes in parts. */
    private Stored readAll(Locality locality) throws IOException {
        KV kv = fleet.client().getKVClient();
        GetResponse first = fleet.await(kv.get(baseKey));
        long at = first.getHeader().getRevision();
        if (first.getKvs().isEmpty()) {
            return null;
        }
        String base = EtcdFleet.text(first.getKvs().get(0).getValue());
        String[] b = base.split(" ");
        long baseEpoch;
        try {
            baseEpoch = Long.parseLong(b[0]);
            if (b.length != 2) {
                throw new NumberFormatException("two words expected");
            }
        } catch (NumberFormatException e) {
            throw new IOException("etcd " + EtcdFleet.text(baseKey) + " at revision " + at + ": " + base
                    + " (expected: EPOCH GENERATION)");
        }
        GetOption atRevision = GetOption.builder().withRevision(at).build();
        GetResponse epochs = fleet.await(kv.get(epochKey, atRevision));
        GetResponse heads = fleet.await(kv.get(headKey, atRevision));
        if (epochs.getKvs().isEmpty() || heads.getKvs().isEmpty()) {
            throw new IOException("etcd: " + EtcdFleet.text(baseKey) + " without " + EtcdFleet.text(epochKey) + " or "
                    + EtcdFleet.text(headKey) + " at revision " + at);
        }
        long epoch = Long.parseLong(EtcdFleet.text(epochs.getKvs().get(0).getValue()).strip());
        List<String> chunks = new ArrayList<>();
        long baseBytes = 0;
        for (KeyValue chunk : range(USERS_PREFIX + b[1] + "/", at)) {
            chunks.add(EtcdFleet.text(chunk.getValue()));
            baseBytes += chunk.getValue().size();
        }
        List<String> batches = new ArrayList<>();
        long logBytes = 0;
        for (KeyValue entry : range(LOG_PREFIX, at)) {
            if (batchEpoch(entry) > baseEpoch) {
                batches.add(EtcdFleet.text(entry.getValue()));
                logBytes += entry.getValue().size();
            }
        }
        RouteTable table;
        try {
            table = RouteParts.assemble(epoch, EtcdFleet.text(heads.getKvs().get(0).getValue()), chunks, batches, locality);
        } catch (IllegalArgumentException e) {
            throw new IOException("etcd routes at revision " + at + ": " + e.getMessage(), e);
        }
        revision = Math.max(revision, at);
        return new Stored(table, at, base, baseEpoch, baseBytes, batches.size(), logBytes);
    }

    /** Every key under {@code prefix} at revision {@code at}, in key order, read a page at a time. */
    private List<KeyValue> range(String prefix, long at) throws IOException {
        ByteSequence end = prefixEnd(prefix);
        ByteSequence from = fleet.key(prefix);
        List<KeyValue> all = new ArrayList<>();
        while (true) {
            GetResponse page = fleet.await(fleet.client().getKVClient().get(from,
                    GetOption.builder().withRange(end).withRevision(at).withLimit(PAGE).build()));
            all.addAll(page.getKvs());
            if (!page.isMore() || page.getKvs().isEmpty()) {
                return all;
            }
            byte[] last = page.getKvs().get(page.getKvs().size() - 1).getKey().getBytes();
            byte[] next = java.util.Arrays.copyOf(last, last.length + 1);
            from = ByteSequence.from(next);
        }
    }

    /** The first key after every key starting with {@code prefix}: the prefix with its last byte raised. */
    private ByteSequence prefixEnd(String prefix) {
        String full = fleet.config().prefix() + prefix;
        return EtcdFleet.bytes(full.substring(0, full.length() - 1) + (char) (full.charAt(full.length() - 1) + 1));
    }

    /** The epoch of a log key; -1 when the key is not one. */
    private long batchEpoch(KeyValue entry) {
        try {
            return Long.parseLong(fleet.relative(entry.getKey(), LOG_PREFIX));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private ByteSequence logKey(long epoch) {
        return fleet.key(LOG_PREFIX + String.format("%020d", epoch));
    }

    /** A generation of user chunks as written: its name and its size. */
    private record Generation(String name, long bytes) {
    }

    /** Writes {@code table}'s per-user entries as a new generation. */
    private Generation writeGeneration(RouteTable table) throws IOException {
        String generation = String.format("%020d-%08x", table.epoch(), ThreadLocalRandom.current().nextInt());
        List<String> chunks = RouteParts.userChunks(table, CHUNK_BYTES);
        List<CompletableFuture<?>> puts = new ArrayList<>();
        KV kv = fleet.client().getKVClient();
        long bytes = 0;
        for (int i = 0; i < chunks.size(); i++) {
            bytes += chunks.get(i).length();
            puts.add(kv.put(fleet.key(USERS_PREFIX + generation + "/" + String.format("%06d", i)), EtcdFleet.bytes(chunks.get(i))));
            if (puts.size() == PAGE) {
                awaitAll(puts);
            }
        }
        awaitAll(puts);
        return new Generation(generation, bytes);
    }

    private void awaitAll(List<CompletableFuture<?>> futures) throws IOException {
        for (CompletableFuture<?> f : futures) {
            fleet.await(f);
        }
        futures.clear();
    }

    private void deleteGeneration(String generation) {
        try {
            fleet.await(fleet.client().getKVClient().delete(fleet.key(USERS_PREFIX + generation + "/"),
                    DeleteOption.builder().isPrefix(true).build()));
        } catch (IOException e) {
            LOG.warning(() -> "fleet: cannot delete the unused route generation " + generation + " (" + e.getMessage()
                    + "); the next fold deletes it");
        }
    }

    /**
     * What makes {@code generation} the base at {@code table}'s epoch: the base written, the log up to
     * that epoch and every older generation deleted. A writer of an older generation still under way
     * fails its own switch (the epoch or the base it compares has moved on) and deletes it.
     */
    private List<Op> switchOps(RouteTable table, String generation) {
        long epoch = table.epoch();
        return List.of(
                Op.put(baseKey, EtcdFleet.bytes(epoch + " " + generation), PutOption.DEFAULT),
                Op.delete(fleet.key(LOG_PREFIX), DeleteOption.builder().withRange(logKey(epoch)).build()),
                Op.delete(fleet.key(USERS_PREFIX), DeleteOption.builder()
                        .withRange(fleet.key(USERS_PREFIX + String.format("%020d", epoch))).build()));
    }

    /** A whole table stored: its generation made the base, its head, epoch and a log key saying so. */
    private List<Op> replaceOps(RouteTable table, Generation generation) {
        List<Op> ops = new ArrayList<>(switchOps(table, generation.name()));
        ops.add(Op.put(headKey, EtcdFleet.bytes(RouteParts.head(table)), PutOption.DEFAULT));
        ops.add(Op.put(epochKey, EtcdFleet.bytes(Long.toString(table.epoch())), PutOption.DEFAULT));
        ops.add(Op.put(logKey(table.epoch()), EtcdFleet.bytes(RouteParts.REPLACED), PutOption.DEFAULT));
        return ops;
    }

    @Override
    public void append(List<? extends RouteChange> changes, RouteTable next) throws IOException {
        long epoch = next.epoch();
        String batch = RouteParts.batch(changes);
        List<Op> ops = new ArrayList<>();
        ops.add(Op.put(epochKey, EtcdFleet.bytes(Long.toString(epoch)), PutOption.DEFAULT));
        ops.add(Op.put(logKey(epoch), EtcdFleet.bytes(batch), PutOption.DEFAULT));
        if (RouteParts.changesHead(changes)) {
            ops.add(Op.put(headKey, EtcdFleet.bytes(RouteParts.head(next)), PutOption.DEFAULT));
        }
        TxnResponse txn;
        try {
            txn = fleet.await(fleet.client().getKVClient().txn()
                    .If(new Cmp(epochKey, Cmp.Op.EQUAL, CmpTarget.value(EtcdFleet.bytes(Long.toString(epoch - 1)))))
                    .Then(ops.toArray(new Op[0]))
                    .Else(Op.get(epochKey, GetOption.DEFAULT))
                    .commit());
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("larger than max") || m.contains("too large")) {
                throw new IOException("a batch of " + changes.size() + " changes (" + batch.length() + " bytes) is more than etcd takes"
                        + " in one request (--max-request-bytes, 1.5 MiB by default): make it in smaller batches (" + m + ")", e);
            }
            throw e;
        }
        if (!txn.isSucceeded()) {
            throw conflict(epoch - 1, txn);
        }
        lastWritten = epoch;
        revision = Math.max(revision, txn.getHeader().getRevision());
        keepLocal(changes, next);
    }

    @Override
    public void replace(RouteTable table) throws IOException {
        write(-1, table);
    }

    @Override
    public void replace(long previousEpoch, RouteTable table) throws IOException {
        write(previousEpoch, table);
    }

    /** Writes the whole {@code table} when etcd still holds {@code previousEpoch} (any epoch when negative). */
    private void write(long previousEpoch, RouteTable table) throws IOException {
        Generation generation = writeGeneration(table);
        List<Op> ops = replaceOps(table, generation);
        io.etcd.jetcd.Txn request = fleet.client().getKVClient().txn();
        if (previousEpoch >= 0) {
            request = request.If(new Cmp(epochKey, Cmp.Op.EQUAL, CmpTarget.value(EtcdFleet.bytes(Long.toString(previousEpoch)))));
        }
        TxnResponse txn = fleet.await(request.Then(ops.toArray(new Op[0])).Else(Op.get(epochKey, GetOption.DEFAULT)).commit());
        if (!txn.isSucceeded()) {
            deleteGeneration(generation.name());
            throw conflict(previousEpoch, txn);
        }
        lastWritten = table.epoch();
        revision = Math.max(revision, txn.getHeader().getRevision());
        keepLocal(null, table);
    }

    private static RouteConflictException conflict(long expected, TxnResponse txn) {
        List<KeyValue> kvs = txn.getGetResponses().get(0).getKvs();
        long stored = kvs.isEmpty() ? 0 : Long.parseLong(EtcdFleet.text(kvs.get(0).getValue()).strip());
        return new RouteConflictException(expected, stored);
    }

    /** Watches {@code routes/log/} from the revision after the last one seen (a full read when compacted). */
    private void watchFromLastRevision() {
        if (closed) {
            return;
        }
        if (watcher != null) {
            watcher.close();
        }
        long from = revision + 1;
        WatchOption option = WatchOption.builder().isPrefix(true).withNoDelete(true).withRevision(from).build();
        watcher = fleet.client().getWatchClient().watch(fleet.key(LOG_PREFIX), option, Watch.listener(
                response -> {
                    for (WatchEvent event : response.getEvents()) {
                        if (event.getEventType() == WatchEvent.EventType.PUT) {
                            KeyValue kv = event.getKeyValue();
                            fleet.execute(() -> takeUp(kv));
                        }
                    }
                },
                error -> fleet.execute(() -> watchFailed(error))));
    }

    private void watchFailed(Throwable error) {
        if (closed) {
            return;
        }
        if (EtcdFleet.isCompaction(error)) {
            LOG.warning(() -> "fleet: etcd compacted the revisions after " + revision + "; reading the routes again");
            if (readAgain()) {
                watchFromLastRevision();
            } else {
                fleet.schedule(this::watchFromLastRevision, fleet.config().probeInterval());
            }
        } else {
            LOG.warning(() -> "fleet: route watch ended (" + error.getMessage() + "); resuming from revision " + (revision + 1));
            fleet.schedule(this::watchFromLastRevision, fleet.config().probeInterval());
        }
    }

    /** Reads every part again and takes the table up; false when etcd did not answer. Fleet thread. */
    private boolean readAgain() {
        try {
            Stored stored = readAll(locality);
            if (stored != null) {
                takeStock(stored);
                adopt(null, stored.table());
            }
            return true;
        } catch (IOException e) {
            LOG.warning(() -> "fleet: reading the routes failed (" + e.getMessage() + "); retrying when etcd answers");
            return false;
        }
    }

    /** A batch another gateway (or this one) wrote, as the watch delivered it. Fleet thread. */
    private void takeUp(KeyValue kv) {
        if (closed) {
            return;
        }
        long epoch = batchEpoch(kv);
        if (epoch < 0) {
            return;
        }
        String body = EtcdFleet.text(kv.getValue());
        revision = Math.max(revision, kv.getModRevision());
        RouteTable current = engine.current();
        if (body.equals(RouteParts.REPLACED)) {
            baseEpoch = Math.max(baseEpoch, epoch);
            logBatches = 0;
            logBytes = 0;
            if (epoch > current.epoch()) {
                LOG.info(() -> "fleet: the routes were replaced at epoch " + epoch + "; reading them again");
                readAgain();
            } else {
                keepLocal(null, current);
            }
            return;
        }
        if (epoch > baseEpoch) {
            logBatches++;
            logBytes += kv.getValue().size();
        }
        if (epoch == current.epoch() + 1) {
            List<RouteChange> changes;
            RouteTable next;
            try {
                changes = RouteParts.parseBatch(body);
                next = current.applied(changes, epoch);
            } catch (RuntimeException e) {
                LOG.warning(() -> "fleet: batch " + epoch + " at revision " + kv.getModRevision() + " does not apply to epoch "
                        + current.epoch() + " (" + e.getMessage() + "); reading the routes again");
                readAgain();
                return;
            }
            adopt(changes, next);
        } else if (epoch <= current.epoch()) {
            // Published already: by this gateway's writer, or after it read the routes on a conflict.
            keepLocal(null, current);
        } else {
            LOG.info(() -> "fleet: batch " + epoch + " follows epoch " + (epoch - 1) + ", not " + current.epoch()
                    + "; reading the routes again");
            readAgain();
        }
        if (epoch == lastWritten) {
            foldIfDue();
        }
    }

    /** Remembers what the parts weigh, for deciding on a fold. Fleet thread (or boot, before the watch). */
    private void takeStock(Stored stored) {
        baseEpoch = stored.baseEpoch();
        baseBytes = stored.baseBytes();
        logBatches = stored.logBatches();
        logBytes = stored.logBytes();
    }

    private boolean foldDue() {
        return logBatches >= foldBatches || logBytes >= Math.max(foldBytes, baseBytes / 2);
    }

    /** Folds the log into a new base on the fold thread when it has grown enough. Fleet thread. */
    private void foldIfDue() {
        if (folding || !foldDue()) {
            return;
        }
        folding = true;
        folder.execute(() -> {
            Stored folded = null;
            try {
                folded = fold();
            } catch (IOException | RuntimeException e) {
                LOG.warning(() -> "fleet: folding the route log failed (" + e.getMessage() + "); the next batch tries again");
            }
            Stored result = folded;
            fleet.execute(() -> {
                folding = false;
                if (result != null) {
                    takeStock(result);
                }
            });
        });
    }

    /**
     * Reads the routes, writes them as a new generation and makes it the base, unless another gateway
     * changed the base meanwhile. Returns the parts as they are after a fold, null when there was none.
     */
    private Stored fold() throws IOException {
        Stored stored = readAll(locality);
        if (stored == null || stored.table().epoch() <= stored.baseEpoch()) {
            return stored;
        }
        long started = System.nanoTime();
        RouteTable table = stored.table();
        Generation generation = writeGeneration(table);
        // Neither the head nor the epoch: batches written meanwhile keep them current, and stay in the log
        // after the new base, to be applied over it.
        TxnResponse txn = fleet.await(fleet.client().getKVClient().txn()
                .If(new Cmp(baseKey, Cmp.Op.EQUAL, CmpTarget.value(EtcdFleet.bytes(stored.base()))))
                .Then(switchOps(table, generation.name()).toArray(new Op[0]))
                .commit());
        if (!txn.isSucceeded()) {
            deleteGeneration(generation.name());
            LOG.fine(() -> "fleet: route fold at epoch " + table.epoch() + " given up: the routes moved on meanwhile");
            return null;
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        LOG.info(() -> "fleet: folded " + stored.logBatches() + " route batches into a new base at epoch " + table.epoch()
                + " (" + table.overrideCount() + " overrides, " + millis + " ms)");
        return new Stored(table, txn.getHeader().getRevision(), table.epoch() + " " + generation.name(), table.epoch(),
                generation.bytes(), 0, 0);
    }

    private void adopt(List<RouteChange> changes, RouteTable table) {
        // Publish first, then keep the local copy: its fsync is not on the propagation path, and a
        // gateway that dies in between boots from an older copy and reads etcd anyway.
        if (engine.adopt(table)) {
            LOG.info(() -> "fleet: took up routes at epoch " + table.epoch() + " (revision " + revision + ")");
        }
        keepLocal(changes, table);
    }

    private RouteTable decodeWhole(KeyValue kv) throws IOException {
        try {
            return RouteTable.decode(EtcdFleet.text(kv.getValue()), locality);
        } catch (IllegalArgumentException e) {
            throw new IOException("etcd " + EtcdFleet.text(kv.getKey()) + " at revision " + kv.getModRevision() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Keeps {@code table} in the local copy when it is newer than what the copy holds: as a batch
     * appended to the copy's log when {@code changes} made it from the epoch the copy holds, else whole.
     */
    private void keepLocal(List<? extends RouteChange> changes, RouteTable table) {
        synchronized (local) {
            if (table.epoch() <= localEpoch) {
                return;
            }
            try {
                if (changes != null && localEpoch == table.epoch() - 1) {
                    local.append(changes, table);
                } else {
                    local.replace(table);
                }
                localEpoch = table.epoch();
                writeRevision(revision);
            } catch (IOException e) {
                LOG.warning(() -> "fleet: cannot keep the local copy of epoch " + table.epoch() + " in " + localDir + ": " + e);
            }
        }
    }

    private void writeRevision(long rev) throws IOException {
        Path tmp = localDir.resolve(REVISION_FILE + ".tmp");
        Files.writeString(tmp, Long.toString(rev), StandardCharsets.UTF_8);
        Files.move(tmp, localDir.resolve(REVISION_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private long readRevision() {
        try {
            return Long.parseLong(Files.readString(localDir.resolve(REVISION_FILE), StandardCharsets.UTF_8).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** Folds after {@code batches} batches or {@code bytes} of log instead (tests: a fold without megabytes). */
    void foldAfter(int batches, long bytes) {
        fleet.executeAndWait(() -> {
            foldBatches = batches;
            foldBytes = bytes;
        });
    }

    /** The etcd revision of the newest routes seen. */
    public long revision() {
        return revision;
    }

    @Override
    public void close() {
        closed = true;
        folder.shutdownNow();
        fleet.execute(() -> {
            if (watcher != null) {
                watcher.close();
            }
        });
    }
}
