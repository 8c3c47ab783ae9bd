package io.cellgate.fence;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A server interceptor for AOs behind cellgate: refuses a write (route class {@code write} or
 * {@code center}) dispatched under routes older than this AO's fence.
 *
 * <p>The fence is the newest {@code x-cellgate-fence-epoch} any call has carried: every gateway with
 * current routes sends its city's fence on every call and every health check, so once one such gateway
 * has reached the AO after a city switch forbade its city, a gateway still holding routes from before
 * the forbid (cut off from the fleet's store, say) has its writes refused with
 * {@code FAILED_PRECONDITION} and the trailer {@code x-cellgate-fenced}; the gateway answers its
 * client {@code WRITE_FORBIDDEN}. Reads pass. Calls without a route epoch (not from a gateway) pass.
 *
 * <p>The fence only rises. It lives in memory: an AO that restarts learns it again from the next
 * gateway call or health check; to close that gap, persist {@link #fence()} and pass it back to
 * {@link #WriteFence(long)}.
 *
 * <p>Use: {@code ServerBuilder.forPort(p).intercept(new WriteFence()).addService(...)}.
 */
public final class WriteFence implements ServerInterceptor {
    private final AtomicLong fence;
    private final LongAdder refused = new LongAdder();

    public WriteFence() {
        this(0);
    }

    /** A fence that starts at {@code initialFence} (a value saved from {@link #fence()}). */
    public WriteFence(long initialFence) {
        if (initialFence < 0) {
            throw new IllegalArgumentException("initialFence: " + initialFence + " (expected: >= 0)");
        }
        this.fence = new AtomicLong(initialFence);
    }

    /** The newest fence epoch seen: writes dispatched under an older route epoch are refused. */
    public long fence() {
        return fence.get();
    }

    /** Writes refused since start. */
    public long refused() {
        return refused.sum();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        long told = FenceHeaders.epoch(headers.get(FenceHeaders.FENCE_EPOCH));
        long current = told > 0 ? fence.accumulateAndGet(told, Math::max) : fence.get();
        long routeEpoch = FenceHeaders.epoch(headers.get(FenceHeaders.ROUTE_EPOCH));
        if (current > 0 && routeEpoch > 0 && routeEpoch < current && isWrite(headers.get(FenceHeaders.ROUTE_CLASS))) {
            refused.increment();
            Metadata trailers = new Metadata();
            trailers.put(FenceHeaders.FENCED, Long.toString(current));
            call.close(Status.FAILED_PRECONDITION.withDescription("write dispatched under route epoch " + routeEpoch
                    + ", older than this AO's fence " + current + ": the gateway missed a city switch"), trailers);
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }

    private static boolean isWrite(String routeClass) {
        return "write".equals(routeClass) || "center".equals(routeClass);
    }
}
