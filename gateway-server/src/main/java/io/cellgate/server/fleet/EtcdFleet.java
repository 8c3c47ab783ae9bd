package io.cellgate.server.fleet;

import io.cellgate.server.config.FleetConfig;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.common.exception.CompactedException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * One gateway's connection to the fleet's etcd: the client, the key layout, the thread every fleet
 * part runs its work on ({@code cellgate-fleet}), and the probe that says whether etcd answers.
 *
 * <p>Key layout under the configured prefix {@code P} (e.g. {@code /cellgate/prod/}):
 * <pre>
 *   P routes/...                the route table in parts: epoch, head, base, user chunks, log ({@link EtcdRouteStore})
 *   P settings/current          the shared settings ({@link EtcdSettingsStore})
 *   P gateways/ADDRESS          one per live gateway, on its lease: "city=.. idc=.. state=.. load=.. ..."
 *   P endpoints/SET/HOST:PORT   one per live AO endpoint of a set, on the AO's lease
 * </pre>
 *
 * <p>Threading: watch and lease callbacks arrive on jetcd's threads and are handed to the fleet
 * thread, so the fleet parts' state has one writer. Nothing here runs on an event loop.
 */
public final class EtcdFleet implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EtcdFleet.class.getName());
    /** The probe backs off to at most this many intervals while etcd does not answer. */
    private static final int MAX_BACKOFF = 8;

    private final FleetConfig config;
    private final Client client;
    private final ScheduledExecutorService thread;
    private final List<Runnable> reconnectListeners = new CopyOnWriteArrayList<>();
    private volatile boolean stale;
    private volatile long confirmedMillis;
    private int failures;
    private volatile boolean closed;

    public EtcdFleet(FleetConfig config) {
        this.config = config;
        this.client = client(config, config.endpoints());
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cellgate-fleet");
            t.setDaemon(true);
            return t;
        });
    }

    /** A client of the fleet's etcd at {@code endpoints}, with its TLS and user as configured. */
    static Client client(FleetConfig config, List<String> endpoints) {
        io.etcd.jetcd.ClientBuilder b = Client.builder()
                .endpoints(endpoints.toArray(new String[0]))
                .connectTimeout(config.timeout())
                .retryMaxDuration(config.timeout())
                .retryDelay(50).retryMaxDelay(1_000)
                // A page of route chunks or batches: up to 16 values of up to etcd's request limit each.
                .maxInboundMessageSize(64 << 20);
        FleetConfig.Security security = config.security();
        if (security.caFile() != null) {
            try {
                io.netty.handler.ssl.SslContextBuilder tls = io.grpc.netty.GrpcSslContexts.forClient()
                        .trustManager(security.caFile().toFile());
                if (security.certFile() != null) {
                    tls.keyManager(security.certFile().toFile(), security.keyFile().toFile());
                }
                b.sslContext(tls.build());
            } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
                throw new io.cellgate.server.config.ConfigException("fleet.etcd.tls: " + e.getMessage()
                        + " (expected: PEM certificates and a PKCS#8 key)", e);
            }
        }
        if (security.user() != null) {
            b.user(bytes(security.user())).password(ByteSequence.from(security.password()));
        }
        return b.build();
    }

    /** Starts probing etcd every {@code probe-interval} (backing off while it does not answer). */
    public void startProbe() {
        thread.execute(this::probe);
    }

    public FleetConfig config() {
        return config;
    }

    Client client() {
        return client;
    }

    /** Runs {@code task} on the fleet thread. */
    void execute(Runnable task) {
        if (!closed) {
            thread.execute(guarded(task));
        }
    }

    /** Runs {@code task} on the fleet thread and waits for it (at most twice the etcd timeout). */
    void executeAndWait(Runnable task) {
        if (closed) {
            return;
        }
        java.util.concurrent.Future<?> done = thread.submit(guarded(task));
        try {
            done.get(config.timeout().toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.fine(() -> "fleet: task did not finish: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void schedule(Runnable task, Duration delay) {
        if (!closed) {
            thread.schedule(guarded(task), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                if (!closed) {
                    LOG.log(java.util.logging.Level.WARNING, "fleet: task failed", e);
                }
            }
        };
    }

    /** {@code listener} runs on the fleet thread each time etcd answers again after an outage. */
    void onReconnect(Runnable listener) {
        reconnectListeners.add(listener);
    }

    /** True while etcd does not answer: the gateway serves its last-known-good routes and endpoints. */
    public boolean stale() {
        return stale;
    }

    /** Milliseconds since etcd last answered (0 before the first probe). */
    public long ageMillis() {
        long confirmed = confirmedMillis;
        return confirmed == 0 ? 0 : System.currentTimeMillis() - confirmed;
    }

    /** The key {@code path} under the fleet's prefix. */
    ByteSequence key(String path) {
        return bytes(config.prefix() + path);
    }

    /** The part of {@code key} after the prefix and {@code under}. */
    String relative(ByteSequence key, String under) {
        return text(key).substring(config.prefix().length() + under.length());
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    /** Waits for an etcd answer at most {@code timeout}; every failure is an IOException naming etcd. */
    <T> T await(CompletableFuture<T> future) throws IOException {
        return await(future, config.timeout(), "etcd " + config.endpoints());
    }

    /** Waits for {@code future} at most {@code timeout}; every failure is an IOException starting with {@code what}. */
    static <T> T await(CompletableFuture<T> future, Duration timeout, String what) throws IOException {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new IOException(what + ": no answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw new IOException(what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted", e);
        }
    }

    static boolean isCompaction(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CompactedException) {
                return true;
            }
        }
        return false;
    }

    private void probe() {
        if (closed) {
            return;
        }
        try {
            await(client.getKVClient().get(key("routes/epoch")));
            confirmedMillis = System.currentTimeMillis();
            failures = 0;
            if (stale) {
                stale = false;
                LOG.info(() -> "fleet: etcd " + config.endpoints() + " answers again; catching up");
                for (Runnable listener : reconnectListeners) {
                    guarded(listener).run();
                }
            }
        } catch (IOException e) {
            failures++;
            if (!stale) {
                stale = true;
                LOG.warning(() -> "fleet: " + e.getMessage() + "; serving the last-known-good routes and endpoints,"
                        + " retrying with backoff");
            }
        }
        long delay = config.probeInterval().toMillis() * Math.min(MAX_BACKOFF, 1L << Math.min(failures, 3));
        if (!closed) {
            thread.schedule(this::probe, delay, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.shutdownNow();
        try {
            thread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
    }
}
