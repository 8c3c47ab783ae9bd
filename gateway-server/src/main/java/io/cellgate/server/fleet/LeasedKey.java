package io.cellgate.server.fleet;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * One key kept alive on an etcd lease: {@link #refresh} renews the lease (granting a new one when
 * etcd forgot it, e.g. after an outage longer than its TTL) and writes the key's current value.
 * Whoever owns it calls {@link #refresh} about three times per TTL from one thread; when the owner
 * dies, etcd deletes the key a TTL later. {@link #close} deletes it at once.
 */
final class LeasedKey {
    private static final Logger LOG = Logger.getLogger(LeasedKey.class.getName());

    private final Client client;
    private final ByteSequence key;
    private final Supplier<String> value;
    private final Duration ttl;
    private final Duration timeout;
    private long lease;
    private boolean failing;

    LeasedKey(Client client, ByteSequence key, Supplier<String> value, Duration ttl, Duration timeout) {
        this.client = client;
        this.key = key;
        this.value = value;
        this.ttl = ttl;
        this.timeout = timeout;
    }

    /** How often {@link #refresh} should run. */
    Duration period() {
        return ttl.dividedBy(3);
    }

    /** Renews the lease and writes the value; false (logged once per outage) when etcd did not answer. */
    boolean refresh() {
        try {
            if (lease != 0) {
                long ttlLeft = await(client.getLeaseClient().keepAliveOnce(lease)).getTTL();
                if (ttlLeft <= 0) {
                    lease = 0;
                }
            }
        } catch (IOException e) {
            // The lease expired while etcd was away (or etcd is still away): grant a new one below.
            lease = 0;
        }
        try {
            if (lease == 0) {
                lease = await(client.getLeaseClient().grant(Math.max(1, ttl.toSeconds()))).getID();
            }
            await(client.getKVClient().put(key, EtcdFleet.bytes(value.get()), PutOption.builder().withLeaseId(lease).build()));
            if (failing) {
                failing = false;
                LOG.info(() -> "fleet: " + EtcdFleet.text(key) + " registered again");
            }
            return true;
        } catch (IOException e) {
            lease = 0;
            if (!failing) {
                failing = true;
                LOG.warning(() -> "fleet: cannot register " + EtcdFleet.text(key) + " (" + e.getMessage() + "); retrying");
            }
            return false;
        }
    }

    /**
     * Writes the key's current value now, on the lease it has (a full {@link #refresh} when it has none):
     * for a value that others wait on, such as the route epoch a gateway has applied.
     */
    boolean publish() {
        if (lease == 0) {
            return refresh();
        }
        try {
            await(client.getKVClient().put(key, EtcdFleet.bytes(value.get()), PutOption.builder().withLeaseId(lease).build()));
            return true;
        } catch (IOException e) {
            // The next refresh grants a lease again if etcd lost this one.
            return false;
        }
    }

    /** Revokes the lease: the key is gone at once. */
    void close() {
        if (lease == 0) {
            return;
        }
        try {
            await(client.getLeaseClient().revoke(lease));
        } catch (IOException e) {
            LOG.fine(() -> "fleet: revoke of " + EtcdFleet.text(key) + " failed (" + e.getMessage() + "); it expires with its lease");
        }
        lease = 0;
    }

    private <T> T await(CompletableFuture<T> future) throws IOException {
        return EtcdFleet.await(future, timeout, "etcd");
    }
}
