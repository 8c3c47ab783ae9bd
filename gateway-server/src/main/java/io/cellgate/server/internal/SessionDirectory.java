package io.cellgate.server.internal;

import io.cellgate.server.config.SessionPolicy;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The fleet's session directory in Redis: which gateways hold which users, so a push to any gateway
 * reaches the user wherever it is connected.
 *
 * <p>Keys: {@code PREFIX:gw:ID} holds this gateway's incarnation (a random id of this process), with a
 * time to live of {@code sessions.directory.ttl}, written again every third of it; {@code PREFIX:user:UID}
 * is a hash from gateway id to the incarnation that holds the user. An entry counts only while its
 * gateway's key holds the same incarnation: a crashed or restarted gateway's entries are stale as soon
 * as its key expires or is replaced, with nothing to clean up first. A user's entry is written when it
 * gets its first connection here and removed when it loses its last ({@link UserSessions.Presence},
 * queued in order and sent in batches by this class's one thread, so no event loop talks to Redis).
 * When Redis was unreachable, or lost this gateway's key (a restart, an eviction), every local user is
 * written again on the next heartbeat that succeeds.
 */
public final class SessionDirectory implements UserSessions.Presence, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SessionDirectory.class.getName());

    /** A user's presence changed here. */
    private record Change(long uid, boolean arrived) {
    }

    private final SessionPolicy.Directory config;
    private final UserSessions sessions;
    private final String gatewayId;
    private final String incarnation = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    private final RedisClient client;
    private final ScheduledExecutorService thread;
    private final ConcurrentLinkedQueue<Change> changes = new ConcurrentLinkedQueue<>();
    /** Touched by the directory thread only. */
    private StatefulRedisConnection<String, String> connection;
    private boolean mustRebuild = true;
    private volatile boolean reachable;

    SessionDirectory(SessionPolicy.Directory config, String gatewayId, UserSessions sessions) {
        this.config = config;
        this.gatewayId = gatewayId;
        this.sessions = sessions;
        this.client = RedisClient.create(RedisURI.create(config.redisUri()));
        // While Redis is away, commands fail at once instead of queueing without bound: the directory is
        // written again in full when it is back.
        client.setOptions(ClientOptions.builder().autoReconnect(true)
                .socketOptions(io.lettuce.core.SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build())
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cellgate-directory");
            t.setDaemon(true);
            return t;
        });
        sessions.presence(this);
        long beat = Math.max(100, config.ttl().toMillis() / 3);
        thread.scheduleWithFixedDelay(this::heartbeat, 0, beat, TimeUnit.MILLISECONDS);
        thread.scheduleWithFixedDelay(this::sendChanges, 20, 20, TimeUnit.MILLISECONDS);
    }

    public String gatewayId() {
        return gatewayId;
    }

    /** Whether the last heartbeat reached Redis. */
    public boolean reachable() {
        return reachable;
    }

    @Override
    public void arrived(long uid) {
        changes.add(new Change(uid, true));
    }

    @Override
    public void left(long uid) {
        changes.add(new Change(uid, false));
    }

    private String gwKey(String id) {
        return config.prefix() + ":gw:" + id;
    }

    private String userKey(long uid) {
        return config.prefix() + ":user:" + Long.toUnsignedString(uid);
    }

    /** On the directory thread: say this gateway is alive; connect, and write every local user again, when needed. */
    private void heartbeat() {
        try {
            if (connection == null) {
                connection = client.connect();
            }
            RedisAsyncCommands<String, String> redis = connection.async();
            String previous = redis.setGet(gwKey(gatewayId), incarnation, SetArgs.Builder.px(config.ttl().toMillis()))
                    .get(1, TimeUnit.SECONDS);
            if (!incarnation.equals(previous)) {
                // Redis lost this gateway's key (restarted, evicted, or expired while unreachable): its users too.
                mustRebuild = true;
            }
            if (mustRebuild) {
                // Cleared first, then read: a change after the clear is queued and sent after the full write.
                changes.clear();
                long[] users = sessions.users();
                List<RedisFuture<Boolean>> writes = new ArrayList<>(users.length);
                for (long uid : users) {
                    writes.add(redis.hset(userKey(uid), gatewayId, incarnation));
                }
                for (RedisFuture<Boolean> w : writes) {
                    w.get(5, TimeUnit.SECONDS);
                }
                mustRebuild = false;
                LOG.info(() -> "session directory: " + users.length + " users of " + gatewayId + " written to " + config.redisUri());
            }
            if (!reachable) {
                reachable = true;
                LOG.info(() -> "session directory: Redis at " + config.redisUri() + " answers");
            }
        } catch (Exception e) {
            if (reachable || connection == null) {
                LOG.warning(() -> "session directory: Redis at " + config.redisUri() + " does not answer (" + e
                        + "); pushes reach this gateway's users only until it does");
            }
            reachable = false;
            mustRebuild = true;
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** On the directory thread: sends the queued presence changes, in order. */
    private void sendChanges() {
        if (changes.isEmpty() || connection == null || mustRebuild) {
            return;
        }
        RedisAsyncCommands<String, String> redis = connection.async();
        Change c;
        while ((c = changes.poll()) != null) {
            RedisFuture<?> f = c.arrived ? redis.hset(userKey(c.uid), gatewayId, incarnation) : redis.hdel(userKey(c.uid), gatewayId);
            f.exceptionally(e -> {
                mustRebuildLater();
                return null;
            });
        }
    }

    private void mustRebuildLater() {
        thread.execute(() -> mustRebuild = true);
    }

    /**
     * The other live gateways that hold each of {@code uids}, by gateway id (users by index into
     * {@code uids}); fails when Redis does not answer within a second.
     */
    public CompletableFuture<Map<String, List<Integer>>> locate(long[] uids) {
        CompletableFuture<Map<String, List<Integer>>> result = new CompletableFuture<>();
        thread.execute(() -> {
            if (connection == null || !reachable) {
                result.completeExceptionally(new IllegalStateException("the session directory (Redis at " + config.redisUri()
                        + ") is unreachable"));
                return;
            }
            RedisAsyncCommands<String, String> redis = connection.async();
            List<RedisFuture<Map<String, String>>> entries = new ArrayList<>(uids.length);
            for (long uid : uids) {
                entries.add(redis.hgetall(userKey(uid)));
            }
            CompletableFuture.allOf(entries.stream().map(RedisFuture::toCompletableFuture).toArray(CompletableFuture[]::new))
                    .orTimeout(1, TimeUnit.SECONDS)
                    .thenCompose(done -> {
                        Set<String> others = new HashSet<>();
                        for (RedisFuture<Map<String, String>> e : entries) {
                            for (String id : e.toCompletableFuture().join().keySet()) {
                                if (!id.equals(gatewayId)) {
                                    others.add(id);
                                }
                            }
                        }
                        List<String> ids = new ArrayList<>(others);
                        if (ids.isEmpty()) {
                            return CompletableFuture.completedFuture(Map.<String, List<Integer>>of());
                        }
                        return redis.mget(ids.stream().map(this::gwKey).toArray(String[]::new)).toCompletableFuture()
                                .orTimeout(1, TimeUnit.SECONDS)
                                .thenApply(values -> {
                                    Map<String, String> live = new HashMap<>();
                                    for (int i = 0; i < ids.size(); i++) {
                                        if (values.get(i).hasValue()) {
                                            live.put(ids.get(i), values.get(i).getValue());
                                        }
                                    }
                                    Map<String, List<Integer>> byGateway = new HashMap<>();
                                    for (int u = 0; u < uids.length; u++) {
                                        for (Map.Entry<String, String> held : entries.get(u).toCompletableFuture().join().entrySet()) {
                                            // Only the gateway's current incarnation: an older one's users are gone with it.
                                            if (held.getValue().equals(live.get(held.getKey()))) {
                                                byGateway.computeIfAbsent(held.getKey(), k -> new ArrayList<>()).add(u);
                                            }
                                        }
                                    }
                                    return byGateway;
                                });
                    })
                    .whenComplete((map, e) -> {
                        if (e != null) {
                            result.completeExceptionally(e);
                        } else {
                            result.complete(map);
                        }
                    });
        });
        return result;
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            if (connection != null && reachable) {
                // Leaving on purpose: the entries go stale at once.
                connection.async().del(gwKey(gatewayId)).get(1, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // Redis away: the key expires by itself.
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }
}
