package io.cellgate.server.internal;

import io.cellgate.limit.GcraRate;
import io.cellgate.limit.LocalTokenBucket;
import io.netty.channel.Channel;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The state of one logged-in client connection, confined to the connection's event loop (its calls
 * complete on any thread into the loop's {@link ResponseWriter}, which comes back to the loop).
 */
final class ClientSession {
    final Channel channel;
    final long uid;
    /** The session id, shown as 16 hex digits ({@link #sessionId()}): a long, not a String, on every idle connection. */
    private final long sessionKey;
    /** The connection's dye (its dye rule's tag, or the client's own where the rule allows it); empty when none. */
    final String dye;
    /** The dye rule that matched the login; null when none did. */
    final io.cellgate.server.config.DyeRule dyeRule;
    /** The login's device, device id and app version (validated; empty when not given), forwarded to AOs. */
    final String device;
    final String deviceId;
    final String appVersion;
    /** Index of the connection's event loop, to pick the matching upstream channel. */
    final int loopIndex;
    private static final Long2ObjectHashMap<UpstreamCall> NONE = new Long2ObjectHashMap<>();
    /** Calls in flight by seq; a shared empty map until the first request (an idle connection holds none). */
    private Long2ObjectHashMap<UpstreamCall> inFlight = NONE;
    /** Request body bytes of the calls in flight. */
    private long inFlightBytes;
    /** In the writer's current batch; written in it (both confined to the event loop). */
    boolean inBatch;
    boolean wroteInBatch;
    /** The clock read once per read batch, shared by the batch's limiter decisions; 0 = not read yet. */
    private long batchNanos;
    /**
     * The connection's own state of its request rate ({@code admission.connection-rate}, one
     * {@link GcraRate} for every connection): the 8 bytes of a bucket each idle connection keeps.
     */
    private long requestTat;
    /** Set when go_away was sent ({@link #draining}), with why. */
    Drain drain;
    /** The user was revoked: the last word is said, the close under way. */
    boolean revoked;
    /** When the login token expires (Unix seconds): the session then gets go_away and must log in again. */
    final long tokenExpirySeconds;
    /** The drain's grace period after go_away has passed. */
    boolean graceOver;
    /** The connection's pushes; null until its first (an idle connection that gets none pays one field). */
    private PushState push;

    /** What a connection that received pushes keeps: its push rate and the pushes waiting for its acks. */
    private static final class PushState {
        /** Created with the first push, and again when the rate is changed. */
        LocalTokenBucket bucket;
        double rate;
        /** Pushes sent with an ack requested and not acknowledged yet, by push id; null until the first. */
        Long2ObjectHashMap<PendingAck> acks;
    }

    /**
     * The logged-in session of client channel {@code ch}, or null before the login: kept by its frame
     * step, not in a channel attribute (one attribute costs an idle connection about 48 bytes). From any thread.
     */
    static ClientSession of(Channel ch) {
        ClientFrameSource source = ClientFrameSource.of(ch.pipeline());
        return source == null ? null : source.session();
    }

    /** go_away was sent: new requests are refused, the connection closes when nothing is in flight. On its loop. */
    boolean draining() {
        return drain != null;
    }

    /** The clock of the current read batch: read at its first use in the batch. On the loop. */
    long batchNanos() {
        if (batchNanos == 0) {
            batchNanos = System.nanoTime();
        }
        return batchNanos;
    }

    /** The read batch ended: the next one reads the clock again. On the loop. */
    void endBatch() {
        batchNanos = 0;
    }

    private PushState push() {
        if (push == null) {
            push = new PushState();
        }
        return push;
    }

    /** A push waiting for this connection's ack. */
    private record PendingAck(Pushes.Batch batch, int target, io.netty.util.concurrent.ScheduledFuture<?> timeout) {
    }

    ClientSession(Channel channel, long uid, long sessionKey, String dye, io.cellgate.server.config.DyeRule dyeRule,
                  io.cellgate.protocol.v1.Login login, int loopIndex) {
        this(channel, uid, sessionKey, dye, dyeRule, login, Long.MAX_VALUE, loopIndex);
    }

    ClientSession(Channel channel, long uid, long sessionKey, String dye, io.cellgate.server.config.DyeRule dyeRule,
                  io.cellgate.protocol.v1.Login login, long tokenExpirySeconds, int loopIndex) {
        this.tokenExpirySeconds = tokenExpirySeconds;
        this.dyeRule = dyeRule;
        this.device = ClientFields.shared(login.getDevice());
        this.deviceId = login.getDeviceId();
        this.appVersion = ClientFields.shared(login.getAppVersion());
        // A full bucket: the first burst of requests passes at once. The dispatcher reads the same clock.
        this.requestTat = System.nanoTime();
        this.channel = channel;
        this.uid = uid;
        this.sessionKey = sessionKey;
        this.dye = dye;
        this.loopIndex = loopIndex;
    }

    /**
     * Takes one of the connection's requests (a ping, a frame) at {@code now} against {@code rate} (the
     * gateway's connection rate now, null when connections are not limited); false when it is over
     * it. On its loop.
     */
    boolean tryRequest(GcraRate rate, long now) {
        if (rate == null) {
            return true;
        }
        long next = rate.next(requestTat, now);
        if (next == GcraRate.REFUSED) {
            return false;
        }
        requestTat = next;
        return true;
    }

    /** The connection's push bucket at {@code rate} per second (burst the same), or null when {@code rate} is 0. On its loop. */
    LocalTokenBucket pushBucket(double rate, io.cellgate.limit.NanoClock clock) {
        if (rate <= 0) {
            return null;
        }
        PushState p = push();
        if (p.bucket == null || p.rate != rate) {
            p.bucket = new LocalTokenBucket(rate, (int) Math.max(1, Math.ceil(rate)), clock);
            p.rate = rate;
        }
        return p.bucket;
    }

    /** {@code batch} was sent to this connection with an ack requested: wait for it up to {@code timeoutMillis}. On its loop. */
    void awaitAck(Pushes.Batch batch, int target, long timeoutMillis) {
        PushState p = push();
        if (p.acks == null) {
            p.acks = new Long2ObjectHashMap<>();
        }
        Long2ObjectHashMap<PendingAck> acks = p.acks;
        long pushId = batch.pushId;
        io.netty.util.concurrent.ScheduledFuture<?> timeout = channel.eventLoop().schedule(() -> {
            PendingAck pending = acks.remove(pushId);
            if (pending != null) {
                pending.batch.acked(pending.target, Pushes.Result.NOT_ACKNOWLEDGED);
            }
        }, timeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
        acks.put(pushId, new PendingAck(batch, target, timeout));
    }

    /** The client acknowledged {@code pushId}; false when no such push waits (unknown, late or twice). On its loop. */
    boolean acknowledged(long pushId) {
        PendingAck pending = push == null || push.acks == null ? null : push.acks.remove(pushId);
        if (pending == null) {
            return false;
        }
        pending.timeout.cancel(false);
        pending.batch.acked(pending.target, Pushes.Result.DELIVERED);
        return true;
    }

    /** The connection closed: every push still waiting for its ack ends NOT_ACKNOWLEDGED. On its loop. */
    void abandonAcks() {
        if (push == null || push.acks == null || push.acks.isEmpty()) {
            return;
        }
        PendingAck[] pending = push.acks.values().toArray(new PendingAck[0]);
        push.acks.clear();
        for (PendingAck p : pending) {
            p.timeout.cancel(false);
            p.batch.acked(p.target, Pushes.Result.NOT_ACKNOWLEDGED);
        }
    }

    /** The session id as the client and operators see it: 16 hex digits. */
    String sessionId() {
        return Long.toHexString(sessionKey);
    }

    /** Removes {@code call} from the calls in flight; false when it was not there (connection gone). */
    @SuppressWarnings("ReferenceEquality") // NONE is a sentinel: identity is the point
    boolean finish(UpstreamCall call) {
        assert channel.eventLoop().inEventLoop();
        if (inFlight != NONE && inFlight.remove(call.seq, call)) {
            inFlightBytes -= call.body.size();
            return true;
        }
        return false;
    }

    boolean isInFlight(long seq) {
        return inFlight.containsKey(seq);
    }

    @SuppressWarnings("ReferenceEquality") // NONE is a sentinel: identity is the point
    void startCall(long seq, UpstreamCall call) {
        assert channel.eventLoop().inEventLoop();
        if (inFlight == NONE) {
            inFlight = new Long2ObjectHashMap<>();
        }
        inFlight.put(seq, call);
        inFlightBytes += call.body.size();
    }

    /** The calls in flight; exact on the connection's loop, a recent value elsewhere. */
    int inFlightCount() {
        return inFlight.size();
    }

    /** Request body bytes of the calls in flight; on the connection's loop. */
    long inFlightBytes() {
        return inFlightBytes;
    }

    /** Closes a draining connection once its grace period is over and no call is in flight. */
    void closeIfDrained() {
        assert channel.eventLoop().inEventLoop();
        if (drain != null && graceOver && inFlight.isEmpty() && channel.isActive()) {
            channel.flush();
            channel.close();
        }
    }

    /** The connection closed: cancel every call in flight; their answers are discarded. */
    void cancelAll(String reason) {
        assert channel.eventLoop().inEventLoop();
        if (inFlight.isEmpty()) {
            return;
        }
        UpstreamCall[] calls = inFlight.values().toArray(new UpstreamCall[0]);
        inFlight.clear();
        inFlightBytes = 0;
        for (UpstreamCall call : calls) {
            call.cancel(reason);
        }
    }
}
