package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.route.CellSet;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Set-level health, on its own thread ({@code cellgate-health}). Every interval it checks each AO
 * endpoint with {@code grpc.health.v1.Health/Check} (a failed check counts like a failed call for
 * outlier ejection), and judges each set: when at least {@code downFraction} of a set's endpoints
 * are ejected or have failed 3 checks in a row, the set is marked DOWN through the route engine (so reads skip
 * it and its writes follow the failover policy); a set this tracker took down comes back UP after
 * all its endpoints have passed their checks for {@code recovery} (no flapping). Sets an operator
 * forced are left alone, and no set is taken down while the gateway itself is overloaded (its own
 * lag makes every AO look slow).
 */
public final class SetHealthTracker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SetHealthTracker.class.getName());
    /** HealthCheckResponse.status = SERVING (1), as bytes: field 1, varint 1. */
    private static final ByteString SERVING = ByteString.copyFrom(new byte[] {0x08, 0x01});
    private static final MethodDescriptor<ByteString, ByteString> CHECK = MethodDescriptor.<ByteString, ByteString>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("grpc.health.v1.Health/Check")
            .setRequestMarshaller(ByteStringMarshaller.INSTANCE)
            .setResponseMarshaller(ByteStringMarshaller.INSTANCE)
            .build();

    private final RouteEngine routes;
    private final Upstreams upstreams;
    private final double downFraction;
    private final long recoveryNanos;
    private final long timeoutMillis;
    private final ScheduledExecutorService timer;
    /** Endpoint address -> failed checks in a row; absent when its last check passed. */
    private final Map<String, Integer> failedChecks = new ConcurrentHashMap<>();
    /** Failed checks in a row that make an endpoint count as failing (one lost check is not an outage). */
    private static final int UNHEALTHY_THRESHOLD = 3;
    /** Endpoint address -> since when its checks pass. */
    private final Map<String, Long> passingSince = new ConcurrentHashMap<>();
    /** Sets this tracker marked DOWN (only these does it bring back). */
    private final Set<String> downedByHealth = new HashSet<>();

    /** The gateway's own load level: while it is overloaded, AO timeouts may be the gateway's fault. */
    private final java.util.function.DoubleSupplier gatewayLoad;

    /** True while the gateway's own event loops are late: a check that timed out then is not the AO's fault. */
    private final java.util.function.BooleanSupplier gatewayLagging;

    public SetHealthTracker(RouteEngine routes, Upstreams upstreams, Duration interval, Duration timeout, double downFraction,
                            Duration recovery, java.util.function.DoubleSupplier gatewayLoad,
                            java.util.function.BooleanSupplier gatewayLagging) {
        this.gatewayLoad = gatewayLoad;
        this.gatewayLagging = gatewayLagging;
        this.routes = routes;
        this.upstreams = upstreams;
        this.downFraction = downFraction;
        this.recoveryNanos = recovery.toNanos();
        this.timeoutMillis = timeout.toMillis();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cellgate-health");
            t.setDaemon(true);
            return t;
        });
        long every = interval.toMillis();
        timer.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            RoutingSnapshot routing = upstreams.current();
            Map<String, AoEndpoint> endpoints = new HashMap<>();
            for (int i = 0; i < routing.table.sets().size(); i++) {
                for (AoEndpoint e : routing.endpoints(i)) {
                    endpoints.put(e.address, e);
                }
            }
            endpoints.values().forEach(this::check);
            endpoints.values().forEach(AoEndpoint::judgeSuccessRate);
            judge(routing);
        } catch (RuntimeException e) {
            LOG.log(java.util.logging.Level.WARNING, "set health: tick failed", e);
        }
    }

    /** Starts a health check of {@code e}; its outcome arrives on the channel's event loop. */
    private void check(AoEndpoint e) {
        ClientCall<ByteString, ByteString> call = e.channel(0).newCall(CHECK,
                CallOptions.DEFAULT.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS));
        call.start(new ClientCall.Listener<>() {
            private boolean serving;

            @Override
            public void onMessage(ByteString message) {
                serving = message.equals(SERVING);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                long now = System.nanoTime();
                // An AO without the health service cannot be judged by checks; its calls still are.
                if ((status.isOk() && serving) || status.getCode() == Status.Code.UNIMPLEMENTED) {
                    failedChecks.remove(e.address);
                    passingSince.putIfAbsent(e.address, now);
                } else {
                    passingSince.remove(e.address);
                    failedChecks.merge(e.address, 1, Integer::sum);
                    e.record(status.isOk() ? Status.Code.UNAVAILABLE : status.getCode(), !gatewayLagging.getAsBoolean());
                }
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage(ByteString.EMPTY);
        call.halfClose();
    }

    private void judge(RoutingSnapshot routing) {
        RouteTable table = routing.table;
        long now = System.nanoTime();
        List<CellSet> sets = table.sets();
        for (int i = 0; i < sets.size(); i++) {
            CellSet set = sets.get(i);
            AoEndpoint[] endpoints = routing.endpoints(i);
            if (endpoints.length == 0) {
                continue;
            }
            int bad = 0;
            boolean allRecovered = true;
            for (AoEndpoint e : endpoints) {
                if (e.ejected(now) || failedChecks.getOrDefault(e.address, 0) >= UNHEALTHY_THRESHOLD) {
                    bad++;
                }
                Long passing = passingSince.get(e.address);
                if (passing == null || now - passing < recoveryNanos) {
                    allRecovered = false;
                }
            }
            if (set.state() == SetState.UP && bad >= Math.ceil(endpoints.length * downFraction)) {
                if (gatewayLoad.getAsDouble() >= 1.0) {
                    // The gateway itself is overloaded (its event loops lag): calls time out because of
                    // it, not of the set. Taking sets down now would spread the trouble; judge later.
                    continue;
                }
                apply(table, set.name(), SetState.DOWN, bad + " of " + endpoints.length + " endpoints failing");
                downedByHealth.add(set.name());
            } else if (set.state() == SetState.DOWN && downedByHealth.contains(set.name()) && allRecovered) {
                for (AoEndpoint e : endpoints) {
                    e.clearEjection();
                }
                apply(table, set.name(), SetState.UP, "every endpoint healthy for " + recoveryNanos / 1_000_000 + " ms");
                downedByHealth.remove(set.name());
            }
        }
    }

    private void apply(RouteTable seen, String set, SetState state, String why) {
        try {
            RouteTable next = routes.apply(seen.epoch(), List.of(new RouteChange.SetSetState(set, state)));
            LOG.warning(() -> "set " + set + " " + state + " (" + why + "), route epoch " + next.epoch());
        } catch (io.cellgate.route.RouteConflictException e) {
            // Someone changed the routes meanwhile; judge again on the next tick.
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
