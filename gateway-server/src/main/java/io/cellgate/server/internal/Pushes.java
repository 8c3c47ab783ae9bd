package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.limit.Admission;
import io.cellgate.limit.LocalTokenBucket;
import io.cellgate.limit.Priority;
import io.cellgate.protocol.v1.ServerPush;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.agrona.collections.LongHashSet;

/**
 * Delivers pushes from services to client connections. A push call becomes one {@link Batch}: its
 * frame (built once, the same object for every connection), its targets (a user and one of the user's
 * connections, found in {@link UserSessions}) and their outcomes. The targets are handed to their
 * connections' event loops in one task per loop; a loop writes the frame to each of its connections
 * that admits it (open, reading fast enough, within its push rate, priority not shed), and with acks
 * requested waits for each connection's {@code PushAck} up to the ack timeout. The batch completes when
 * every loop is done and every ack came or timed out; the caller is told then, on whichever thread
 * finished last, and must not block there.
 */
public final class Pushes {
    /** A connection's (or a user's) outcome, best last: a user's is the best over its connections. */
    public enum Result {
        NOT_CONNECTED, DROPPED, NOT_ACKNOWLEDGED, SENT, DELIVERED
    }

    /** Why a connection did not get a push. */
    enum Drop {
        CLOSING, SLOW_READER, RATE, OVERLOAD
    }

    /** What to push. */
    public record Message(int cmd, ByteString body, Priority priority, boolean ack, long ackTimeoutMillis, String topic) {
    }

    private final GatewayContext context;
    private final UserSessions sessions;
    /** Push ids: the start time in the high bits, so ids rarely repeat across restarts either. */
    private final AtomicLong nextId = new AtomicLong(System.currentTimeMillis() << 20);

    Pushes(GatewayContext context, UserSessions sessions) {
        this.context = context;
        this.sessions = sessions;
    }

    /**
     * One push to each of {@code uids} (distinct), to all of their connections here; {@code done} gets
     * the batch when every outcome is known. Any thread.
     */
    public void toUsers(long[] uids, Message message, Consumer<Batch> done) {
        toUsers(newPushId(), uids, message, done);
    }

    /** A new push id. */
    public long newPushId() {
        return nextId.getAndIncrement();
    }

    /** As {@link #toUsers(long[], Message, Consumer)}, with the push id given (a push another gateway forwarded). */
    public void toUsers(long pushId, long[] uids, Message message, Consumer<Batch> done) {
        List<ClientSession> targets = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        for (int u = 0; u < uids.length; u++) {
            ClientSession[] of = sessions.of(uids[u]);
            if (of.length == 0) {
                context.counters.pushesNotConnected.increment();
            }
            for (ClientSession s : of) {
                targets.add(s);
                owners.add(u);
            }
        }
        start(new Batch(context.counters, pushId, message, uids.length, targets, owners, done));
    }

    /** One push to every logged-in connection here. Any thread. */
    public void broadcast(Message message, Consumer<Batch> done) {
        List<ClientSession> targets = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        LongHashSet users = new LongHashSet();
        for (Channel ch : context.clients) {
            ClientSession s = ClientSession.of(ch);
            if (s != null) {
                users.add(s.uid);
                targets.add(s);
                owners.add(targets.size() - 1); // outcomes are per connection here
            }
        }
        Batch batch = new Batch(context.counters, nextId.getAndIncrement(), message, targets.size(), targets, owners, done);
        batch.distinctUsers = users.size();
        start(batch);
    }

    private void start(Batch batch) {
        int loops = context.loopCount();
        List<List<Integer>> byLoop = new ArrayList<>(loops);
        for (int i = 0; i < loops; i++) {
            byLoop.add(new ArrayList<>());
        }
        for (int t = 0; t < batch.targets.length; t++) {
            byLoop.get(batch.targets[t].loopIndex).add(t);
        }
        // One hold for this method, released at its end: the batch cannot complete while tasks are handed out.
        batch.pending.incrementAndGet();
        for (int i = 0; i < loops; i++) {
            if (!byLoop.get(i).isEmpty()) {
                int[] mine = byLoop.get(i).stream().mapToInt(Integer::intValue).toArray();
                EventLoop loop = context.loop(i);
                batch.pending.incrementAndGet();
                try {
                    loop.execute(() -> deliver(batch, mine));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // The gateway is stopping: its connections are closing.
                    for (int t : mine) {
                        batch.outcome(t, Result.DROPPED);
                    }
                    batch.release();
                }
            }
        }
        batch.release();
    }

    /** On the event loop of {@code targets}' connections. */
    private void deliver(Batch batch, int[] targets) {
        for (int t : targets) {
            ClientSession s = batch.targets[t];
            Drop drop = refusal(s, batch.message);
            if (drop != null) {
                context.counters.pushDropped[drop.ordinal()].increment();
                batch.outcome(t, Result.DROPPED);
                continue;
            }
            if (batch.message.ack()) {
                batch.pending.incrementAndGet();
                s.awaitAck(batch, t, batch.message.ackTimeoutMillis());
            } else {
                batch.outcome(t, Result.SENT);
            }
            context.counters.pushesSent.increment();
            s.channel.writeAndFlush(batch.frame, s.channel.voidPromise());
            SlowReaders.closeIfOverLimit(context, s.channel);
        }
        batch.release();
    }

    /** Why {@code s} may not take {@code message} now; null when it may. On its loop. */
    private Drop refusal(ClientSession s, Message message) {
        if (!s.channel.isActive() || s.draining()) {
            return Drop.CLOSING;
        }
        if (message.priority() != Priority.P0 && !s.channel.isWritable()) {
            // The client reads slowly and is paused; P0 is still queued, up to the outbound limit that closes it.
            return Drop.SLOW_READER;
        }
        LocalTokenBucket bucket = s.pushBucket(context.config.push().ratePerConnection(), context.clock());
        if (bucket != null && !bucket.tryAcquire()) {
            return Drop.RATE;
        }
        Admission decision = context.admissions().control.admit(message.priority(), s.uid, ThreadLocalRandom.current().nextDouble());
        return decision == Admission.ADMIT ? null : Drop.OVERLOAD;
    }

    /** One push call in progress. */
    public static final class Batch {
        public final long pushId;
        final Message message;
        final ServerFrame frame;
        /** The connections to push to, and for each the index of its user (or of itself, for a broadcast). */
        final ClientSession[] targets;
        private final int[] ownerOf;
        private final byte[] outcomes;
        private final int owners;
        int distinctUsers = -1;
        final AtomicInteger pending = new AtomicInteger();
        private final Consumer<Batch> done;
        private final GatewayCounters counters;

        Batch(GatewayCounters counters, long pushId, Message message, int owners, List<ClientSession> targets, List<Integer> ownerOf, Consumer<Batch> done) {
            this.counters = counters;
            this.pushId = pushId;
            this.message = message;
            ServerPush.Builder push = ServerPush.newBuilder().setPushId(pushId).setCmd(message.cmd()).setBody(message.body())
                    .setPriority(message.priority().ordinal()).setAckRequested(message.ack());
            if (message.topic() != null) {
                push.setTopic(message.topic());
            }
            this.frame = ServerFrame.newBuilder().setPush(push).build();
            this.targets = targets.toArray(new ClientSession[0]);
            this.ownerOf = ownerOf.stream().mapToInt(Integer::intValue).toArray();
            this.outcomes = new byte[this.targets.length];
            this.owners = owners;
            this.done = done;
        }

        /** Each target's outcome is set once, by its loop; read after completion (ordered by {@link #pending}). */
        void outcome(int target, Result result) {
            outcomes[target] = (byte) result.ordinal();
        }

        /** The ack of {@code target} came, or its wait ended. On the target's loop. */
        void acked(int target, Result result) {
            (result == Result.DELIVERED ? counters.pushesAcknowledged : counters.pushesNotAcknowledged).increment();
            outcome(target, result);
            release();
        }

        void release() {
            if (pending.decrementAndGet() == 0) {
                done.accept(this);
            }
        }

        /** Connections the push was for. */
        public int connections() {
            return targets.length;
        }

        /** Users the push was for. */
        public int users() {
            return distinctUsers >= 0 ? distinctUsers : owners;
        }

        /** Connections whose outcome is {@code result}. */
        public int count(Result result) {
            int n = 0;
            for (byte b : outcomes) {
                if (b == result.ordinal()) {
                    n++;
                }
            }
            return n;
        }

        /** For each user (in the order given), the best outcome over its connections and how many reached it. */
        public void forEachUser(UserOutcome each) {
            int[] best = new int[owners];
            int[] reached = new int[owners];
            int[] connections = new int[owners];
            for (int t = 0; t < outcomes.length; t++) {
                int u = ownerOf[t];
                connections[u]++;
                if (outcomes[t] > best[u]) {
                    best[u] = outcomes[t];
                    reached[u] = 1;
                } else if (outcomes[t] == best[u]) {
                    reached[u]++;
                }
            }
            Result[] results = Result.values();
            for (int u = 0; u < owners; u++) {
                each.accept(u, connections[u] == 0 ? Result.NOT_CONNECTED : results[best[u]], connections[u],
                        connections[u] == 0 ? 0 : reached[u]);
            }
        }
    }

    /** One user's outcome. */
    @FunctionalInterface
    public interface UserOutcome {
        void accept(int user, Result result, int connections, int reached);
    }
}
