package io.cellgate.server.internal;

import io.cellgate.limit.LocalTokenBucket;
import io.netty.channel.Channel;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The state of one logged-in client connection. Confined to the connection's event loop, except
 * {@link #writer}, whose {@code completed} may be called from any thread.
 */
final class ClientSession {
    final Channel channel;
    final long uid;
    final String sessionId;
    /** The login's dye; empty when none. */
    final String dye;
    /** Index of the connection's event loop, to pick the matching upstream channel. */
    final int loopIndex;
    /** Calls in flight by seq. */
    final Long2ObjectHashMap<UpstreamCall> inFlight = new Long2ObjectHashMap<>();
    final ResponseWriter writer;
    /** The connection's dispatch step, which retries failed idempotent calls. */
    DispatchHandler dispatcher;
    /** The connection's request rate; null when connections are not limited. */
    final LocalTokenBucket requests;
    /** go_away was sent: new requests are refused, the connection closes when nothing is in flight. */
    boolean draining;
    /** The drain's grace period after go_away has passed. */
    boolean graceOver;

    ClientSession(Channel channel, long uid, String sessionId, String dye, int loopIndex, LocalTokenBucket requests) {
        this.requests = requests;
        this.channel = channel;
        this.uid = uid;
        this.sessionId = sessionId;
        this.dye = dye;
        this.loopIndex = loopIndex;
        this.writer = new ResponseWriter(this);
    }

    /** Removes {@code call} from the calls in flight; false when it was not there (connection gone). */
    boolean finish(UpstreamCall call) {
        assert channel.eventLoop().inEventLoop();
        return inFlight.remove(call.seq, call);
    }

    /** The calls in flight; exact on the connection's loop, a recent value elsewhere. */
    int inFlightCount() {
        return inFlight.size();
    }

    /** Closes a draining connection once its grace period is over and no call is in flight. */
    void closeIfDrained() {
        assert channel.eventLoop().inEventLoop();
        if (draining && graceOver && inFlight.isEmpty() && channel.isActive()) {
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
        for (UpstreamCall call : calls) {
            call.cancel(reason);
        }
    }
}
