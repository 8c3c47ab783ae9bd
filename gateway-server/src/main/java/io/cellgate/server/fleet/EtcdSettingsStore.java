package io.cellgate.server.fleet;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cellgate.protocol.admin.v1.SharedSettings;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/**
 * The settings a fleet shares (the command table, the admission rates, the degrade cap) in etcd, beside
 * the routes: one key, {@code settings/current}, holding a {@link SharedSettings} message. Any gateway
 * changes it with compare-and-swap on the key's revision (a change made against an older value is made
 * again on the newer one, so two operators on two gateways lose nothing); every gateway watches it and
 * applies what it finds. A local copy ({@code shared-settings.pb} in the route store's directory) lets a
 * gateway start with the fleet's settings while etcd does not answer; the configuration file only seeds
 * an empty store, as it does the routes.
 *
 * <p>Threading: {@link #update} runs on the caller's thread (the gateway's control thread) and waits for
 * etcd; watch events are handed to the fleet thread, which calls the listener given to {@link #start}
 * (it must hand the settings to whoever applies them). The settings in use are one volatile value.
 */
public final class EtcdSettingsStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EtcdSettingsStore.class.getName());
    static final String LOCAL_FILE = "shared-settings.pb";
    /** Attempts of a change that keeps meeting newer values (each one re-reads and re-applies it). */
    private static final int MAX_ATTEMPTS = 8;

    private final EtcdFleet fleet;
    private final Path localFile;
    private final ByteSequence key;
    private volatile SharedSettings current;
    /** The etcd revision of {@link #current} (0: not from etcd). */
    private volatile long revision;
    private Consumer<SharedSettings> listener;
    private Watch.Watcher watcher;
    private volatile boolean closed;

    public EtcdSettingsStore(EtcdFleet fleet, Path localDir) {
        this.fleet = fleet;
        this.localFile = localDir.resolve(LOCAL_FILE);
        this.key = fleet.key("settings/current");
    }

    /**
     * The settings to start with: those in etcd (seeded from {@code seed} when etcd holds none), else
     * the local copy when etcd does not answer, else {@code seed} itself (stored once etcd answers).
     */
    public SharedSettings boot(SharedSettings seed) {
        try {
            SharedSettings stored = loadOrSeed(seed);
            keepLocal(stored);
            return stored;
        } catch (IOException unreachable) {
            SharedSettings copy = readLocal();
            if (copy != null) {
                current = copy;
                LOG.warning(() -> "fleet: " + unreachable.getMessage() + "; starting with the local copy of the shared settings"
                        + " at epoch " + copy.getEpoch());
                return copy;
            }
            current = seed;
            LOG.warning(() -> "fleet: " + unreachable.getMessage() + "; no local copy of the shared settings in " + localFile
                    + ": starting with the configuration's until etcd answers");
            return seed;
        }
    }

    /** The stored settings, after storing {@code seed} when there are none. */
    private SharedSettings loadOrSeed(SharedSettings seed) throws IOException {
        TxnResponse txn = fleet.await(fleet.client().getKVClient().txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(key, ByteSequence.from(seed.toByteArray()), PutOption.DEFAULT))
                .Else(Op.get(key, GetOption.DEFAULT))
                .commit());
        if (txn.isSucceeded()) {
            revision = txn.getHeader().getRevision();
            current = seed;
            LOG.info(() -> "fleet: etcd held no shared settings; seeded them from the configuration (epoch " + seed.getEpoch() + ")");
            return seed;
        }
        KeyValue kv = txn.getGetResponses().get(0).getKvs().get(0);
        SharedSettings stored = decode(kv);
        revision = kv.getModRevision();
        current = stored;
        return stored;
    }

    /**
     * Starts taking up the changes other gateways make: {@code onChange} gets each newer settings, on the
     * fleet thread. After an outage the store reads the key again (and seeds it if it is still empty).
     */
    public void start(Consumer<SharedSettings> onChange) {
        this.listener = onChange;
        fleet.onReconnect(this::catchUp);
        fleet.execute(this::catchUp);
    }

    /**
     * Makes {@code change} on the fleet's settings: reads them, applies {@code change}, and writes the
     * result (epoch + 1) if nobody wrote in between; otherwise again on what they wrote. Returns what was
     * stored. Fails with an IOException naming etcd when it does not answer: a fleet setting changed on one
     * gateway alone would be undone by the next change anywhere.
     */
    public SharedSettings update(UnaryOperator<SharedSettings> change) throws IOException {
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            GetResponse got = fleet.await(fleet.client().getKVClient().get(key));
            SharedSettings base;
            long baseRevision;
            if (got.getKvs().isEmpty()) {
                base = current;
                baseRevision = 0;
            } else {
                KeyValue kv = got.getKvs().get(0);
                base = decode(kv);
                baseRevision = kv.getModRevision();
            }
            SharedSettings next = change.apply(base).toBuilder().setEpoch(base.getEpoch() + 1).build();
            Cmp unchanged = baseRevision == 0 ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0))
                    : new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(baseRevision));
            TxnResponse txn = fleet.await(fleet.client().getKVClient().txn()
                    .If(unchanged)
                    .Then(Op.put(key, ByteSequence.from(next.toByteArray()), PutOption.DEFAULT))
                    .commit());
            if (txn.isSucceeded()) {
                taken(next, txn.getHeader().getRevision());
                return next;
            }
            int tried = attempt;
            LOG.fine(() -> "fleet: shared settings changed under attempt " + tried + "; applying the change again");
        }
        throw new IOException("etcd " + fleet.config().endpoints() + ": the shared settings kept changing under " + MAX_ATTEMPTS
                + " attempts; try again");
    }

    /** The settings in use (as stored, taken up or started from). */
    public SharedSettings current() {
        return current;
    }

    private void catchUp() {
        if (closed) {
            return;
        }
        try {
            SharedSettings stored = loadOrSeed(current);
            keepLocal(stored);
            listener.accept(stored);
            watchFrom(revision + 1);
        } catch (IOException e) {
            LOG.warning(() -> "fleet: shared settings: " + e.getMessage() + "; retrying when etcd answers");
            fleet.schedule(this::catchUp, fleet.config().probeInterval());
        }
    }

    private void watchFrom(long from) {
        if (watcher != null) {
            watcher.close();
        }
        watcher = fleet.client().getWatchClient().watch(key, WatchOption.builder().withRevision(from).build(), Watch.listener(
                response -> {
                    for (WatchEvent event : response.getEvents()) {
                        if (event.getEventType() == WatchEvent.EventType.PUT) {
                            KeyValue kv = event.getKeyValue();
                            fleet.execute(() -> takeUp(kv));
                        }
                    }
                },
                error -> fleet.execute(() -> {
                    if (!closed) {
                        LOG.warning(() -> "fleet: shared settings watch ended (" + error.getMessage() + "); reading them again");
                        fleet.schedule(this::catchUp, fleet.config().probeInterval());
                    }
                })));
    }

    private void takeUp(KeyValue kv) {
        if (closed || kv.getModRevision() <= revision) {
            return;
        }
        SharedSettings next;
        try {
            next = decode(kv);
        } catch (IOException e) {
            LOG.warning(() -> "fleet: " + e.getMessage() + "; keeping the shared settings at epoch " + current.getEpoch());
            return;
        }
        taken(next, kv.getModRevision());
        listener.accept(next);
        LOG.info(() -> "fleet: took up shared settings at epoch " + next.getEpoch() + " (" + next.getChange() + " by "
                + next.getChangedBy() + ")");
    }

    private synchronized void taken(SharedSettings next, long rev) {
        if (rev > revision) {
            revision = rev;
            current = next;
            keepLocal(next);
        }
    }

    private SharedSettings decode(KeyValue kv) throws IOException {
        try {
            return SharedSettings.parseFrom(kv.getValue().getBytes());
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("etcd " + EtcdFleet.text(kv.getKey()) + " at revision " + kv.getModRevision()
                    + ": not a SharedSettings message: " + e.getMessage(), e);
        }
    }

    private void keepLocal(SharedSettings settings) {
        try {
            Files.createDirectories(localFile.getParent());
            Path tmp = localFile.resolveSibling(LOCAL_FILE + ".tmp");
            Files.write(tmp, settings.toByteArray());
            Files.move(tmp, localFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warning(() -> "fleet: cannot keep the local copy of the shared settings in " + localFile + ": " + e);
        }
    }

    private SharedSettings readLocal() {
        if (!Files.isRegularFile(localFile)) {
            return null;
        }
        try {
            return SharedSettings.parseFrom(Files.readAllBytes(localFile));
        } catch (IOException e) {
            LOG.warning(() -> "fleet: the local copy of the shared settings " + localFile + " cannot be read: " + e);
            return null;
        }
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
