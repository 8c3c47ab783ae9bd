package io.cellgate.server.fleet;

import io.cellgate.route.FileRouteStore;
import io.cellgate.route.Locality;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteConflictException;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteStore;
import io.cellgate.route.RouteTable;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.logging.Logger;

/**
 * The route store of a fleet: the table lives in etcd, every gateway's engine writes it with
 * compare-and-swap on the epoch, and every gateway watches it and takes up what the others wrote.
 * A local {@link FileRouteStore} keeps the last-known-good copy, so a gateway boots and serves while
 * etcd is down.
 *
 * <p>Writes: {@code routes/epoch} and {@code routes/table} change together in one transaction that
 * succeeds only when {@code routes/epoch} still holds the epoch the change was made against; otherwise
 * the store throws {@link RouteConflictException} naming the stored epoch (the engine then takes up the
 * stored table). Reads: a watch on {@code routes/table} from the last revision seen; after an outage
 * the watch resumes from that revision, and when etcd has compacted it, the store reads the whole
 * table again (a full resync).
 *
 * <p>Threading: {@link #append} and {@link #replace} run on the engine's writer (its monitor held);
 * watch events and resyncs run on the fleet thread and reach the engine through
 * {@link RouteEngine#adopt}. The local copy is written under its own lock, newest epoch only.
 */
public final class EtcdRouteStore implements RouteStore, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EtcdRouteStore.class.getName());
    private static final String REVISION_FILE = "etcd-revision";

    private final EtcdFleet fleet;
    private final FileRouteStore local;
    private final Path localDir;
    private final ByteSequence epochKey;
    private final ByteSequence tableKey;
    private RouteEngine engine;
    private Locality locality;
    /** The etcd revision of the newest table this gateway has seen (written or watched). */
    private volatile long revision;
    /** The epoch of the table in the local copy. */
    private long localEpoch = -1;
    private Watch.Watcher watcher;
    private volatile boolean closed;

    public EtcdRouteStore(EtcdFleet fleet, Path localDir) throws IOException {
        this.fleet = fleet;
        this.localDir = localDir;
        this.local = new FileRouteStore(localDir);
        this.epochKey = fleet.key("routes/epoch");
        this.tableKey = fleet.key("routes/table");
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
                Loaded stored = loadFromEtcd(locality);
                if (stored.table() != null) {
                    keepLocal(stored.table());
                    LOG.info(() -> "fleet: routes at epoch " + stored.table().epoch() + " from etcd (revision " + revision + ")");
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

    /** Stores {@code seed} when etcd holds no table yet; when another gateway seeded first, takes up its table. */
    private RouteTable seed(RouteTable seed) throws IOException {
        TxnResponse txn = fleet.await(fleet.client().getKVClient().txn()
                .If(new Cmp(epochKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(epochKey, EtcdFleet.bytes(Long.toString(seed.epoch())), PutOption.DEFAULT),
                        Op.put(tableKey, EtcdFleet.bytes(seed.encode()), PutOption.DEFAULT))
                .Else(Op.get(tableKey, GetOption.DEFAULT))
                .commit());
        if (txn.isSucceeded()) {
            revision = txn.getHeader().getRevision();
            keepLocal(seed);
            LOG.info(() -> "fleet: etcd held no routes; seeded them from the configuration at epoch " + seed.epoch());
            return seed;
        }
        List<KeyValue> kvs = txn.getGetResponses().get(0).getKvs();
        if (kvs.isEmpty()) {
            throw new IOException("etcd: " + EtcdFleet.text(epochKey) + " exists without " + EtcdFleet.text(tableKey));
        }
        RouteTable table = decode(kvs.get(0));
        revision = kvs.get(0).getModRevision();
        keepLocal(table);
        return table;
    }

    /** Starts taking up the tables other gateways write: a watch from the last revision seen. */
    public void start(RouteEngine engine) {
        this.engine = engine;
        fleet.onReconnect(this::watchFromLastRevision);
        fleet.execute(this::watchFromLastRevision);
    }

    @Override
    public Loaded load(Locality locality) throws IOException {
        return loadFromEtcd(locality);
    }

    private Loaded loadFromEtcd(Locality locality) throws IOException {
        GetResponse got = fleet.await(fleet.client().getKVClient().get(tableKey));
        if (got.getKvs().isEmpty()) {
            return new Loaded(null, List.of());
        }
        KeyValue kv = got.getKvs().get(0);
        RouteTable table = decode(kv, locality);
        revision = Math.max(revision, kv.getModRevision());
        return new Loaded(table, List.of());
    }

    @Override
    public void append(List<? extends RouteChange> changes, RouteTable next) throws IOException {
        write(next.epoch() - 1, next);
    }

    @Override
    public void replace(RouteTable table) throws IOException {
        write(-1, table);
    }

    @Override
    public void replace(long previousEpoch, RouteTable table) throws IOException {
        write(previousEpoch, table);
    }

    /** Writes {@code table} when etcd still holds {@code previousEpoch} (any epoch when negative). */
    private void write(long previousEpoch, RouteTable table) throws IOException {
        Op[] puts = {Op.put(epochKey, EtcdFleet.bytes(Long.toString(table.epoch())), PutOption.DEFAULT),
                Op.put(tableKey, EtcdFleet.bytes(table.encode()), PutOption.DEFAULT)};
        TxnResponse txn;
        if (previousEpoch < 0) {
            txn = fleet.await(fleet.client().getKVClient().txn().Then(puts).commit());
        } else {
            txn = fleet.await(fleet.client().getKVClient().txn()
                    .If(new Cmp(epochKey, Cmp.Op.EQUAL, CmpTarget.value(EtcdFleet.bytes(Long.toString(previousEpoch)))))
                    .Then(puts)
                    .Else(Op.get(epochKey, GetOption.DEFAULT))
                    .commit());
        }
        if (!txn.isSucceeded()) {
            List<KeyValue> kvs = txn.getGetResponses().get(0).getKvs();
            long stored = kvs.isEmpty() ? 0 : Long.parseLong(EtcdFleet.text(kvs.get(0).getValue()).strip());
            throw new RouteConflictException(previousEpoch, stored);
        }
        revision = Math.max(revision, txn.getHeader().getRevision());
        keepLocal(table);
    }

    /** Watches {@code routes/table} from the revision after the last one seen (a full resync when compacted). */
    private void watchFromLastRevision() {
        if (closed) {
            return;
        }
        if (watcher != null) {
            watcher.close();
        }
        long from = revision + 1;
        WatchOption option = WatchOption.builder().withRevision(from).build();
        watcher = fleet.client().getWatchClient().watch(tableKey, option, Watch.listener(
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
            LOG.warning(() -> "fleet: etcd compacted the revisions after " + revision + "; reading the whole table again");
            try {
                Loaded stored = loadFromEtcd(locality);
                if (stored.table() != null) {
                    adopt(stored.table());
                }
                watchFromLastRevision();
            } catch (IOException e) {
                LOG.warning(() -> "fleet: full resync failed (" + e.getMessage() + "); retrying when etcd answers");
                fleet.schedule(this::watchFromLastRevision, fleet.config().probeInterval());
            }
        } else {
            LOG.warning(() -> "fleet: route watch ended (" + error.getMessage() + "); resuming from revision " + (revision + 1));
            fleet.schedule(this::watchFromLastRevision, fleet.config().probeInterval());
        }
    }

    /** A table another gateway (or this one) wrote, as the watch delivered it. */
    private void takeUp(KeyValue kv) {
        RouteTable table;
        try {
            table = decode(kv);
        } catch (IOException e) {
            LOG.warning(() -> "fleet: " + e.getMessage() + "; keeping epoch " + engine.current().epoch());
            return;
        }
        revision = Math.max(revision, kv.getModRevision());
        adopt(table);
    }

    private void adopt(RouteTable table) {
        // Publish first, then keep the local copy: its fsync is not on the propagation path, and a
        // gateway that dies in between boots from an older copy and reads etcd anyway.
        if (engine.adopt(table)) {
            LOG.info(() -> "fleet: took up routes at epoch " + table.epoch() + " (revision " + revision + ")");
        }
        keepLocal(table);
    }

    private RouteTable decode(KeyValue kv) throws IOException {
        return decode(kv, locality);
    }

    private static RouteTable decode(KeyValue kv, Locality locality) throws IOException {
        try {
            return RouteTable.decode(EtcdFleet.text(kv.getValue()), locality);
        } catch (IllegalArgumentException e) {
            throw new IOException("etcd " + EtcdFleet.text(kv.getKey()) + " at revision " + kv.getModRevision() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Keeps {@code table} in the local copy when it is newer than what the copy holds. */
    private void keepLocal(RouteTable table) {
        synchronized (local) {
            if (table.epoch() <= localEpoch) {
                return;
            }
            try {
                local.replace(table);
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

    /** The etcd revision of the newest table seen. */
    public long revision() {
        return revision;
    }

    @Override
    public void close() {
        closed = true;
        fleet.execute(() -> {
            if (watcher != null) {
                watcher.close();
            }
        });
    }
}
