package io.cellgate.server.fleet;

import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What an AO runs to announce itself: {@code endpoints/SET/HOST:PORT} under the fleet's prefix, on a
 * lease it renews. Every gateway of the fleet routes to it within moments; when the AO stops (or
 * {@link #close}s), the key goes and the gateways stop routing to it.
 */
public final class EndpointRegistration implements AutoCloseable {
    private final Client client;
    private final LeasedKey key;
    private final ScheduledExecutorService thread;

    /**
     * Registers {@code address} as an endpoint of {@code set}.
     *
     * @param prefix the fleet's key prefix (ending with {@code /}), as in the gateways' {@code fleet.etcd.prefix}
     */
    public EndpointRegistration(List<String> etcdEndpoints, String prefix, String set, String address, Duration ttl) {
        this.client = Client.builder().endpoints(etcdEndpoints.toArray(new String[0])).build();
        String p = prefix.endsWith("/") ? prefix : prefix + "/";
        this.key = new LeasedKey(client, EtcdFleet.bytes(p + "endpoints/" + set + "/" + address), () -> "", ttl, Duration.ofSeconds(2));
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cellgate-registration");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(key::refresh, 0, key.period().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Deregisters at once and closes the etcd client. */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        key.close();
        client.close();
    }
}
