package io.cellgate.server.internal;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;

/**
 * Carries completed upstream calls to their client connections' event loop, in batches: one writer
 * per client event loop. gRPC callbacks (on whatever loop owns the upstream channel) enqueue; one
 * task on the client loop drains everything queued for all its connections, writes the responses
 * and flushes each connection once. Modelled on grpc-java's {@code WriteQueue}: a foreign thread never
 * touches a client channel. One queue per loop rather than per connection keeps an idle connection
 * free of it (a queue costs about 200 bytes).
 */
final class ResponseWriter implements Runnable {
    private final GatewayContext context;
    private final EventLoop loop;
    private static final Logger LOG = Logger.getLogger(ResponseWriter.class.getName());
    private final ManyToOneConcurrentLinkedQueue<UpstreamCall> completed = new ManyToOneConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Connections written to in the current batch; confined to the loop. */
    private final List<ClientSession> touched = new ArrayList<>();

    ResponseWriter(GatewayContext context, EventLoop loop) {
        this.context = context;
        this.loop = loop;
    }

    /** Any thread: {@code call} has its outcome; its response will be written on its client's loop. */
    void completed(UpstreamCall call) {
        completed.offer(call);
        if (scheduled.compareAndSet(false, true)) {
            try {
                loop.execute(this);
            } catch (RejectedExecutionException e) {
                // The event loop is shutting down with the gateway; the connections are gone.
                scheduled.set(false);
            }
        }
    }

    @Override
    public void run() {
        assert loop.inEventLoop();
        scheduled.set(false);
        UpstreamCall call;
        while ((call = completed.poll()) != null) {
            ClientSession session = call.session();
            if (!session.inBatch) {
                session.inBatch = true;
                touched.add(session);
            }
            if (session.finish(call)) {
                ServerFrame frame;
                try {
                    if (call.retryable()) {
                        if (context.dispatcher.retry(call)) {
                            continue; // a new call carries the request now
                        }
                        context.counters.retriesRefused.increment();
                    }
                    frame = call.toFrame();
                } catch (RuntimeException e) {
                    // A defect here must not cost the client its answer, nor the rest of the batch theirs.
                    LOG.log(Level.WARNING, "answering seq " + call.seq + " failed; answered INTERNAL", e);
                    frame = Frames.response(call.seq, Code.INTERNAL, "the gateway failed to answer: " + e);
                }
                session.channel.write(frame, session.channel.voidPromise());
                session.wroteInBatch = true;
            }
        }
        for (int i = 0; i < touched.size(); i++) {
            ClientSession session = touched.get(i);
            session.inBatch = false;
            if (session.wroteInBatch) {
                session.wroteInBatch = false;
                session.channel.flush();
                SlowReaders.closeIfOverLimit(context, session.channel);
            }
            session.closeIfDrained();
        }
        touched.clear();
    }
}
