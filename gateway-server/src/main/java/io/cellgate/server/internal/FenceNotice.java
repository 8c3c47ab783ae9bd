package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.fence.FenceHeaders;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tells the AOs of a city its new fence at once: a city switch forbids the city's writes at epoch F,
 * then, before it moves any write point, sends every endpoint of the city a health check carrying
 * fence F, so an AO that runs the fence (the ao-fence module) refuses from then on the writes of any
 * gateway whose routes predate F, even one cut off from the route store. Health checks repeat the
 * fence every tick; this does not wait for one.
 */
public final class FenceNotice {
    /** How many endpoints of the city answered the notice (the fence was delivered), of how many. */
    public record Outcome(int told, int endpoints) {
    }

    private FenceNotice() {
    }

    /** The metadata of a call or check dispatched under {@code routeEpoch} to a city whose fence is {@code fence}. */
    static Metadata headers(long routeEpoch, long fence) {
        Metadata headers = new Metadata();
        headers.put(FenceHeaders.ROUTE_EPOCH, Long.toString(routeEpoch));
        if (fence > 0) {
            headers.put(FenceHeaders.FENCE_EPOCH, Long.toString(fence));
        }
        return headers;
    }

    /**
     * Sends the fence of {@code city} in the current routes to every endpoint of its sets and waits up
     * to {@code timeoutMillis} for their answers. Blocks: call it from a control thread, never an event loop.
     */
    static Outcome tell(RoutingSnapshot routing, String city, long timeoutMillis) throws InterruptedException {
        Set<AoEndpoint> endpoints = Collections.newSetFromMap(new IdentityHashMap<>());
        long fence = 0;
        for (int i = 0; i < routing.table.sets().size(); i++) {
            if (routing.table.set(i).city().equals(city)) {
                fence = Math.max(fence, routing.table.fenceEpoch(i));
                Collections.addAll(endpoints, routing.endpoints(i));
            }
        }
        if (fence == 0 || endpoints.isEmpty()) {
            return new Outcome(0, endpoints.size());
        }
        CountDownLatch answered = new CountDownLatch(endpoints.size());
        AtomicInteger told = new AtomicInteger();
        for (AoEndpoint e : endpoints) {
            SetHealthTracker.startCheck(e, timeoutMillis, headers(routing.table.epoch(), fence), new ClientCall.Listener<>() {
                @Override
                public void onClose(Status status, Metadata trailers) {
                    // An answer from the service means the AO's interceptors saw the headers; UNIMPLEMENTED
                    // (no health service) may have been answered before them, so it does not count.
                    if (status.isOk()) {
                        told.incrementAndGet();
                    }
                    answered.countDown();
                }
            });
        }
        answered.await(timeoutMillis + 1_000, TimeUnit.MILLISECONDS);
        return new Outcome(told.get(), endpoints.size());
    }
}
