package io.cellgate.server;

import io.cellgate.limit.Priority;
import io.cellgate.protocol.v1.BroadcastRequest;
import io.cellgate.protocol.v1.PushGrpc;
import io.cellgate.protocol.v1.PushMessage;
import io.cellgate.protocol.v1.PushResult;
import io.cellgate.protocol.v1.PushSummary;
import io.cellgate.protocol.v1.PushToTopicRequest;
import io.cellgate.protocol.v1.PushToUsersReply;
import io.cellgate.protocol.v1.PushToUsersRequest;
import io.cellgate.protocol.v1.TopicMembersReply;
import io.cellgate.protocol.v1.TopicMembersRequest;
import io.cellgate.protocol.v1.UserPushResult;
import io.cellgate.server.config.PushConfig;
import io.cellgate.server.internal.GatewayContext;
import io.cellgate.server.internal.Pushes;
import io.cellgate.server.internal.Topics;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.agrona.collections.Long2LongHashMap;

/**
 * {@code cellgate.v1.Push}: services push to users, topics and everyone through {@link Pushes}. A call
 * is answered when every connection's outcome is known (at once without acks; with acks, when they
 * came or the ack timeout passed), without holding a thread meanwhile. Bad requests are
 * {@code INVALID_ARGUMENT} with what was wrong and what is expected.
 */
final class PushService extends PushGrpc.PushImplBase {
    /** The most users one PushToUsers call may name. */
    static final int MAX_USERS = 100_000;

    private final GatewayContext context;
    private final java.util.concurrent.Executor executor;
    /** Null without a session directory: pushes reach this gateway's connections only. */
    private final PushForwarder forwarder;

    PushService(GatewayContext context, java.util.concurrent.Executor executor, PushForwarder forwarder) {
        this.context = context;
        this.executor = executor;
        this.forwarder = forwarder;
    }

    private PushConfig config() {
        return context.config().push();
    }

    @Override
    public void pushToUsers(PushToUsersRequest request, StreamObserver<PushToUsersReply> observer) {
        if (request.getUidsCount() > MAX_USERS) {
            invalid(observer, "uids: " + request.getUidsCount() + " users (expected: at most " + MAX_USERS + " per call)");
            return;
        }
        Pushes.Message message = message(request.getMessage(), null, observer);
        if (message == null) {
            return;
        }
        // The same user named twice is pushed to once; each listed uid gets that user's result.
        Long2LongHashMap indexOf = new Long2LongHashMap(-1);
        org.agrona.collections.LongArrayList users = new org.agrona.collections.LongArrayList();
        for (int i = 0; i < request.getUidsCount(); i++) {
            long uid = request.getUids(i);
            if (indexOf.get(uid) < 0) {
                indexOf.put(uid, users.size());
                users.addLong(uid);
            }
        }
        long[] distinct = users.toLongArray();
        Long forwardedId = PushServer.FORWARDED_ID.get();
        long pushId = forwardedId != null ? forwardedId : context.pushes().newPushId();
        java.util.concurrent.CompletableFuture<Pushes.Batch> local = new java.util.concurrent.CompletableFuture<>();
        context.pushes().toUsers(pushId, distinct, message, local::complete);
        // A push from a service also goes to the other gateways that hold these users; a forwarded one does not go on.
        java.util.concurrent.CompletableFuture<java.util.Map<Integer, UserPushResult>> remote = forwarder == null || forwardedId != null
                ? java.util.concurrent.CompletableFuture.completedFuture(java.util.Map.of())
                : forwarder.forward(distinct, request.getMessage(), pushId, (message.ack() ? message.ackTimeoutMillis() : 0) + 2_000);
        local.thenCombineAsync(remote, (batch, others) -> {
            UserPushResult[] byUser = new UserPushResult[distinct.length];
            batch.forEachUser((u, result, connections, reached) -> {
                UserPushResult here = UserPushResult.newBuilder().setUid(distinct[u]).setResult(wire(result))
                        .setConnections(connections).setReached(reached).build();
                UserPushResult there = others.get(u);
                byUser[u] = there == null ? here : PushForwarder.better(here, there);
            });
            PushToUsersReply.Builder reply = PushToUsersReply.newBuilder().setPushId(batch.pushId);
            for (int i = 0; i < request.getUidsCount(); i++) {
                reply.addResults(byUser[(int) indexOf.get(request.getUids(i))]);
            }
            return reply.build();
        }, executor).whenComplete((reply, error) -> {
            if (error != null) {
                observer.onError(Status.INTERNAL.withDescription("push " + pushId + ": " + error).asRuntimeException());
            } else {
                observer.onNext(reply);
                observer.onCompleted();
            }
        });
    }

    @Override
    public void pushToTopic(PushToTopicRequest request, StreamObserver<PushSummary> observer) {
        String problem = Topics.nameProblem(request.getTopic());
        if (problem != null) {
            invalid(observer, problem);
            return;
        }
        Pushes.Message message = message(request.getMessage(), request.getTopic(), observer);
        if (message == null) {
            return;
        }
        if (!context.topics().tryPush(request.getTopic(), config().topicRate())) {
            observer.onError(Status.RESOURCE_EXHAUSTED.withDescription("topic " + request.getTopic() + " is over its push rate ("
                    + config().topicRate() + "/s, push.topic-rate); retry later").asRuntimeException());
            return;
        }
        context.pushes().toUsers(context.topics().members(request.getTopic()), message, batch -> summary(batch, observer));
    }

    @Override
    public void broadcast(BroadcastRequest request, StreamObserver<PushSummary> observer) {
        Pushes.Message message = message(request.getMessage(), null, observer);
        if (message != null) {
            context.pushes().broadcast(message, batch -> summary(batch, observer));
        }
    }

    @Override
    public void joinTopic(TopicMembersRequest request, StreamObserver<TopicMembersReply> observer) {
        String problem = Topics.nameProblem(request.getTopic());
        if (problem != null) {
            invalid(observer, problem);
            return;
        }
        int members;
        try {
            members = context.topics().join(request.getTopic(), uids(request), config().maxTopics(), config().maxTopicMembers());
        } catch (IllegalStateException e) {
            observer.onError(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        observer.onNext(TopicMembersReply.newBuilder().setMembers(members).build());
        observer.onCompleted();
    }

    @Override
    public void leaveTopic(TopicMembersRequest request, StreamObserver<TopicMembersReply> observer) {
        String problem = Topics.nameProblem(request.getTopic());
        if (problem != null) {
            invalid(observer, problem);
            return;
        }
        observer.onNext(TopicMembersReply.newBuilder().setMembers(context.topics().leave(request.getTopic(), uids(request))).build());
        observer.onCompleted();
    }

    @Override
    public void kick(io.cellgate.protocol.v1.KickRequest request, StreamObserver<io.cellgate.protocol.v1.KickReply> observer) {
        if (request.getUidsCount() > MAX_USERS) {
            invalid(observer, "uids: " + request.getUidsCount() + " users (expected: at most " + MAX_USERS + " per call)");
            return;
        }
        long[] uids = request.getUidsList().stream().mapToLong(Long::longValue).distinct().toArray();
        int reconnect = (int) Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(request.getReconnectAfterMs()));
        kickEverywhere(context, forwarder, uids, reconnect, "kicked by a service", PushServer.FORWARDED_ID.get() != null).whenComplete((reply, error) -> {
            if (error != null) {
                observer.onError(Status.INTERNAL.withDescription("kick: " + error).asRuntimeException());
            } else {
                observer.onNext(reply);
                observer.onCompleted();
            }
        });
    }

    /** Kicks {@code uids} here ({@code reason} in the go_away) and, unless {@code localOnly} or without a directory, on the other gateways that hold them. */
    static java.util.concurrent.CompletableFuture<io.cellgate.protocol.v1.KickReply> kickEverywhere(GatewayContext context,
            PushForwarder forwarder, long[] uids, int reconnectAfterMillis, String reason, boolean localOnly) {
        int here = 0;
        for (long uid : uids) {
            here += context.kickUser(uid, reconnectAfterMillis, reason);
        }
        int local = here;
        java.util.concurrent.CompletableFuture<PushForwarder.Kicked> others = forwarder == null || localOnly
                ? java.util.concurrent.CompletableFuture.completedFuture(new PushForwarder.Kicked(0, 0, false))
                : forwarder.kick(uids, reconnectAfterMillis);
        return others.thenApply(k -> io.cellgate.protocol.v1.KickReply.newBuilder().setConnections(local + k.connections())
                .setGatewaysUnreachable(k.unreachable()).setDirectoryUnavailable(k.directoryUnavailable()).build());
    }

    private static long[] uids(TopicMembersRequest request) {
        return request.getUidsList().stream().mapToLong(Long::longValue).toArray();
    }

    /** The push to send, or null after answering INVALID_ARGUMENT. */
    private Pushes.Message message(PushMessage m, String topic, StreamObserver<?> observer) {
        if (m.getPriority() >= Priority.values().length) {
            invalid(observer, "message.priority: " + Integer.toUnsignedString(m.getPriority()) + " (expected: 0 to 3, P0 to P3)");
            return null;
        }
        int maxBody = context.config().maxFrameBytes();
        if (m.getBody().size() > maxBody) {
            invalid(observer, "message.body: " + m.getBody().size() + " bytes (expected: at most " + maxBody
                    + ", limits.max-frame-bytes)");
            return null;
        }
        long ackTimeout = m.getAckTimeoutMs() == 0 ? config().ackTimeout().toMillis() : Integer.toUnsignedLong(m.getAckTimeoutMs());
        if (ackTimeout > 300_000) {
            invalid(observer, "message.ack_timeout_ms: " + ackTimeout + " (expected: at most 300000)");
            return null;
        }
        return new Pushes.Message(m.getCmd(), m.getBody(), Priority.values()[m.getPriority()], m.getAck(), ackTimeout, topic);
    }

    private static void summary(Pushes.Batch batch, StreamObserver<PushSummary> observer) {
        observer.onNext(PushSummary.newBuilder().setPushId(batch.pushId).setUsers(batch.users()).setConnections(batch.connections())
                .setSent(batch.count(Pushes.Result.SENT)).setDelivered(batch.count(Pushes.Result.DELIVERED))
                .setNotAcknowledged(batch.count(Pushes.Result.NOT_ACKNOWLEDGED)).setDropped(batch.count(Pushes.Result.DROPPED))
                .build());
        observer.onCompleted();
    }

    private static PushResult wire(Pushes.Result result) {
        return switch (result) {
            case SENT -> PushResult.SENT;
            case DELIVERED -> PushResult.DELIVERED;
            case NOT_CONNECTED -> PushResult.NOT_CONNECTED;
            case NOT_ACKNOWLEDGED -> PushResult.NOT_ACKNOWLEDGED;
            case DROPPED -> PushResult.DROPPED;
        };
    }

    private static void invalid(StreamObserver<?> observer, String message) {
        observer.onError(Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException());
    }
}
