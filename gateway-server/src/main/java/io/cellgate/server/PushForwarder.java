package io.cellgate.server;

import io.cellgate.protocol.v1.PushGrpc;
import io.cellgate.protocol.v1.PushMessage;
import io.cellgate.protocol.v1.PushResult;
import io.cellgate.protocol.v1.PushToUsersReply;
import io.cellgate.protocol.v1.PushToUsersRequest;
import io.cellgate.protocol.v1.UserPushResult;
import io.cellgate.server.internal.SessionDirectory;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Pushes to the users this gateway does not hold: asks the session directory which other live gateways
 * hold them, and calls each one's push API once with its users and the same push id (marked
 * forwarded, so it pushes to its own connections only). A gateway that cannot be reached (it died)
 * answers for its users {@code NOT_CONNECTED}, at once on a refused connection and within the call's
 * deadline otherwise; a directory that does not answer makes every user {@code DIRECTORY_UNAVAILABLE}.
 */
final class PushForwarder implements AutoCloseable {
    /** The directory, once started (it needs the push API's bound port first). */
    private final java.util.function.Supplier<SessionDirectory> directory;
    private final byte[] token;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    PushForwarder(java.util.function.Supplier<SessionDirectory> directory, byte[] token) {
        this.directory = directory;
        this.token = token.clone();
    }

    /** What the other gateways answered, by user index into {@code uids}. */
    CompletableFuture<Map<Integer, UserPushResult>> forward(long[] uids, PushMessage message, long pushId, long deadlineMillis) {
        SessionDirectory d = directory.get();
        if (d == null) {
            return CompletableFuture.completedFuture(Map.of());
        }
        return d.locate(uids).handle((byGateway, error) -> {
            if (error != null) {
                Map<Integer, UserPushResult> unknown = new HashMap<>();
                for (int u = 0; u < uids.length; u++) {
                    unknown.put(u, UserPushResult.newBuilder().setUid(uids[u]).setResult(PushResult.DIRECTORY_UNAVAILABLE).build());
                }
                return CompletableFuture.completedFuture(unknown);
            }
            Map<Integer, UserPushResult> merged = new ConcurrentHashMap<>();
            CompletableFuture<?>[] calls = byGateway.entrySet().stream()
                    .map(e -> call(e.getKey(), e.getValue(), uids, message, pushId, deadlineMillis, merged))
                    .toArray(CompletableFuture[]::new);
            return CompletableFuture.allOf(calls).thenApply(done -> merged);
        }).thenCompose(f -> f);
    }

    private CompletableFuture<Void> call(String gateway, List<Integer> users, long[] uids, PushMessage message, long pushId,
                                         long deadlineMillis, Map<Integer, UserPushResult> merged) {
        PushToUsersRequest.Builder request = PushToUsersRequest.newBuilder().setMessage(message);
        for (int u : users) {
            request.addUids(uids[u]);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        stub(gateway, pushId).withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
                .pushToUsers(request.build(), new StreamObserver<>() {
                    @Override
                    public void onNext(PushToUsersReply reply) {
                        for (int i = 0; i < reply.getResultsCount() && i < users.size(); i++) {
                            merge(merged, users.get(i), reply.getResults(i));
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        // The gateway is gone (or does not answer in time): so are the connections it held.
                        for (int u : users) {
                            merge(merged, u, UserPushResult.newBuilder().setUid(uids[u]).setResult(PushResult.NOT_CONNECTED).build());
                        }
                        done.complete(null);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        return done;
    }

    private static void merge(Map<Integer, UserPushResult> merged, int user, UserPushResult result) {
        merged.merge(user, result, PushForwarder::better);
    }

    /** Of two outcomes for one user (from different gateways), the better, with their connections added up. */
    static UserPushResult better(UserPushResult a, UserPushResult b) {
        int ra = rank(a.getResult());
        int rb = rank(b.getResult());
        UserPushResult best = ra >= rb ? a : b;
        int reached = ra == rb ? a.getReached() + b.getReached() : best.getReached();
        return best.toBuilder().setConnections(a.getConnections() + b.getConnections()).setReached(reached).build();
    }

    /** Higher is better: the user was reached, then sent to, ..., and not connected anywhere last. */
    static int rank(PushResult r) {
        return switch (r) {
            case DELIVERED -> 6;
            case SENT -> 5;
            case NOT_ACKNOWLEDGED -> 4;
            case DROPPED -> 3;
            case DIRECTORY_UNAVAILABLE -> 2;
            case NOT_CONNECTED -> 1;
            default -> 0;
        };
    }

    /** What kicking users on the other gateways reached. */
    record Kicked(int connections, int unreachable, boolean directoryUnavailable) {
    }

    /** Sends every other gateway that holds some of {@code uids} a Kick for them. */
    CompletableFuture<Kicked> kick(long[] uids, int reconnectAfterMillis) {
        SessionDirectory d = directory.get();
        if (d == null) {
            return CompletableFuture.completedFuture(new Kicked(0, 0, false));
        }
        return d.locate(uids).handle((byGateway, error) -> {
            if (error != null) {
                return CompletableFuture.completedFuture(new Kicked(0, 0, true));
            }
            java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger unreachable = new java.util.concurrent.atomic.AtomicInteger();
            CompletableFuture<?>[] calls = byGateway.entrySet().stream().map(e -> {
                io.cellgate.protocol.v1.KickRequest.Builder request = io.cellgate.protocol.v1.KickRequest.newBuilder()
                        .setReconnectAfterMs(reconnectAfterMillis);
                for (int u : e.getValue()) {
                    request.addUids(uids[u]);
                }
                CompletableFuture<Void> done = new CompletableFuture<>();
                stub(e.getKey(), 0).withDeadlineAfter(2, TimeUnit.SECONDS).kick(request.build(), new StreamObserver<>() {
                    @Override
                    public void onNext(io.cellgate.protocol.v1.KickReply reply) {
                        connections.addAndGet(reply.getConnections());
                    }

                    @Override
                    public void onError(Throwable t) {
                        unreachable.incrementAndGet();
                        done.complete(null);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
                return done;
            }).toArray(CompletableFuture[]::new);
            return CompletableFuture.allOf(calls).thenApply(x -> new Kicked(connections.get(), unreachable.get(), false));
        }).thenCompose(f -> f);
    }

    /** A stub for {@code gateway}'s push API with the push token, marked forwarded (push id {@code pushId}). */
    private PushGrpc.PushStub stub(String gateway, long pushId) {
        Metadata headers = new Metadata();
        headers.put(AdminServer.AUTHORIZATION, "Bearer " + new String(token, StandardCharsets.UTF_8));
        headers.put(PushServer.FORWARDED, Long.toUnsignedString(pushId));
        return PushGrpc.newStub(channel(gateway)).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private ManagedChannel channel(String gateway) {
        return channels.computeIfAbsent(gateway, g -> {
            int colon = g.lastIndexOf(':');
            return NettyChannelBuilder.forAddress(g.substring(0, colon).replace("[", "").replace("]", ""),
                    Integer.parseInt(g.substring(colon + 1))).usePlaintext().maxInboundMessageSize(64 << 20).build();
        });
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
