package io.cellgate.server.internal;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;

/**
 * Carries completed upstream calls to their client connection's event loop, in batches: gRPC
 * callbacks (on whatever loop owns the upstream channel) enqueue; one task on the client's loop
 * drains everything queued, writes the responses and flushes once. Modelled on grpc-java's
 * {@code WriteQueue}: a foreign thread never touches the client channel.
 */
final class ResponseWriter implements Runnable {
    private final ClientSession session;
    private final ManyToOneConcurrentLinkedQueue<UpstreamCall> completed = new ManyToOneConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    ResponseWriter(ClientSession session) {
        this.session = session;
    }

    /** Any thread: {@code call} has its outcome; its response will be written on the client's loop. */
    void completed(UpstreamCall call) {
        completed.offer(call);
        if (scheduled.compareAndSet(false, true)) {
            try {
                session.channel.eventLoop().execute(this);
            } catch (RejectedExecutionException e) {
                // The event loop is shutting down with the gateway; the connection is gone.
                scheduled.set(false);
            }
        }
    }

    @Override
    public void run() {
        assert session.channel.eventLoop().inEventLoop();
        scheduled.set(false);
        boolean wrote = false;
        UpstreamCall call;
        while ((call = completed.poll()) != null) {
            if (session.finish(call)) {
                if (call.retryable() && session.dispatcher != null && session.dispatcher.retry(call)) {
                    continue; // a new call carries the request now
                }
                session.channel.write(call.toFrame(), session.channel.voidPromise());
                wrote = true;
            }
        }
        if (wrote) {
            session.channel.flush();
        }
        session.closeIfDrained();
    }
}
