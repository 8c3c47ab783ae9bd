package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.route.CellSet;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.logging.Logger;

/**
 * Set-level health, on its own thread ({@code cellgate-health}). Every interval it checks each AO
 * endpoint with {@code grpc.health.v1.Health/Check} (a failed check counts like a failed call for
 * outlier ejection), has every channel that waits out a reconnect backoff connect again (an endpoint
 * passes only when its check passed and none of its channels refuses calls), and judges each set:
 * when at least {@code downFraction} of a set's endpoints
 * are ejected or have failed 3 checks in a row, the set is held DOWN in this gateway's routing
 * snapshot (reads skip it; its writes follow the failover policy); it comes back after all its
 * endpoints have passed their checks for {@code recovery} (no flapping).
 *
 * <p>A verdict is this gateway's own view, a soft overlay: it is never written to the route store,
 * so it never spreads to a fleet and never outlives the process (a restarted gateway learns its
 * verdicts again by probing). Operators' states are stored and win: only sets stored UP are judged.
 *
 * <p>Guards against a wrong verdict, which is worse than a slow one: no set is taken down while
 * the gateway itself is overloaded (its own lag makes every AO look slow), and health never takes
 * down the last UP set of a city, or more than {@code maxDownShare} of a city's sets; such a set is
 * held up, keeps routing, and is reported ({@code cellgate_set_health_held_up}, a log line) for an
 * operator to decide.
 */
public final class SetHealthTracker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SetHealthTracker.class.getName());
    /** HealthCheckResponse.status = SERVING (1), as bytes: field 1, varint 1. */
    private static final ByteString SERVING = ByteString.copyFrom(new byte[] {0x08, 0x01});
    static final MethodDescriptor<ByteString, ByteString> CHECK = MethodDescriptor.<ByteString, ByteString>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("grpc.health.v1.Health/Check")
            .setRequestMarshaller(ByteStringMarshaller.INSTANCE)
            .setResponseMarshaller(ByteStringMarshaller.INSTANCE)
            .build();

    private final Upstreams upstreams;
    private final double downFraction;
    private final double maxDownShare;
    private final long recoveryNanos;
    private final long timeoutMillis;
    private final ScheduledExecutorService timer;
    /**
     * Endpoint address -> weight of its failed checks in a row; absent when its last check passed. A
     * check refused or broken weighs {@link #REFUSED_WEIGHT}, one that timed out 1.
     */
    private final Map<String, Integer> failedChecks = new ConcurrentHashMap<>();
    /**
     * A failed check that makes an endpoint count as failing: three refused or broken in a row (one lost
     * check is not an outage), or three times as many timeouts. A timeout is weaker evidence: the AO took
     * the call and is slow, which is what a set's concurrency limit and the calls' own deadlines are for;
     * on a small host where cold AO processes start beside the gateway, checks time out for seconds while
     * every AO is healthy (perf/results/cold-start-*.md). A hung AO is still taken down, a little later.
     */
    private static final int REFUSED_WEIGHT = 3;
    private static final int UNHEALTHY_THRESHOLD = 3 * REFUSED_WEIGHT;
    /** Endpoint address -> since when its checks pass. */
    private final Map<String, Long> passingSince = new ConcurrentHashMap<>();
    /** Sets held DOWN by health; written on the health thread only, published as copies. */
    private final Set<String> down = new TreeSet<>();
    /** Sets health would take down but the guard keeps routing; a copy, for metrics and status. */
    private volatile Set<String> heldUp = Set.of();
    /** Sets taken down and brought back by health since start (transitions). */
    private final AtomicLong changes = new AtomicLong();
    /** Operators' "this set is UP" since the last tick: their word clears the verdict. */
    private final Set<String> forgotten = ConcurrentHashMap.newKeySet();

    /** The gateway's own load level: while it is overloaded, AO timeouts may be the gateway's fault. */
    private final DoubleSupplier gatewayLoad;

    /** True while the gateway's own event loops are late: a check that timed out then is not the AO's fault. */
    private final BooleanSupplier gatewayLagging;

    public SetHealthTracker(Upstreams upstreams, Duration interval, Duration timeout, double downFraction, double maxDownShare,
                            Duration recovery, DoubleSupplier gatewayLoad, BooleanSupplier gatewayLagging) {
        this.gatewayLoad = gatewayLoad;
        this.gatewayLagging = gatewayLagging;
        this.upstreams = upstreams;
        this.downFraction = downFraction;
        this.maxDownShare = maxDownShare;
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

    /** Sets this gateway's health holds DOWN now (its own view; the stored routes have them UP). */
    public Set<String> down() {
        return upstreams.current().healthDown;
    }

    /** Sets health would take down, kept routing by the guard (last UP set of a city, or the city's share). */
    public Set<String> heldUp() {
        return heldUp;
    }

    /** Health verdict changes (a set taken down, or brought back) since start. */
    public long changes() {
        return changes.get();
    }

    /**
     * An operator said {@code set} is UP: its verdict is dropped and its endpoints are back in
     * rotation at the next tick; health judges it again from there.
     */
    public void forget(String set) {
        forgotten.add(set);
    }

    private void tick() {
        try {
            RoutingSnapshot routing = upstreams.current();
            Map<String, AoEndpoint> endpoints = new HashMap<>();
            Map<String, Long> fences = new HashMap<>();
            for (int i = 0; i < routing.table.sets().size(); i++) {
                for (AoEndpoint e : routing.endpoints(i)) {
                    endpoints.put(e.address, e);
                    fences.merge(e.address, routing.table.fenceEpoch(i), Math::max);
                }
            }
            long epoch = routing.table.epoch();
            endpoints.values().forEach(AoEndpoint::reconnectFailedChannels);
            endpoints.values().forEach(e -> check(e, epoch, fences.get(e.address)));
            endpoints.values().forEach(AoEndpoint::judgeSuccessRate);
            judge(routing);
        } catch (RuntimeException e) {
            LOG.log(java.util.logging.Level.WARNING, "set health: tick failed", e);
        }
    }

    /**
     * Starts a health check of {@code e}; its outcome arrives on the channel's event loop. The check
     * carries the route epoch and the city's fence like a call, so every AO learns a fence within a
     * tick even when no client request reaches it.
     */
    private void check(AoEndpoint e, long routeEpoch, long fence) {
        startCheck(e, timeoutMillis, FenceNotice.headers(routeEpoch, fence), new ClientCall.Listener<>() {
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
                    if (e.anyChannelFailed()) {
                        // The check's channel reached the AO, another of its channels has not yet (this
                        // tick told it to reconnect): not recovered until every channel takes calls.
                        passingSince.remove(e.address);
                    } else {
                        passingSince.putIfAbsent(e.address, now);
                    }
                } else {
                    passingSince.remove(e.address);
                    if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
                        // Counted by health alone, not as a failed call: five slow checks must not eject.
                        failedChecks.merge(e.address, 1, Integer::sum);
                    } else {
                        failedChecks.merge(e.address, REFUSED_WEIGHT, Integer::sum);
                        e.record(status.isOk() ? Status.Code.UNAVAILABLE : status.getCode(), !gatewayLagging.getAsBoolean());
                    }
                }
            }
        });
    }

    /** Starts one {@code Health/Check} of {@code e} carrying {@code headers}; its outcome goes to {@code listener}. */
    static void startCheck(AoEndpoint e, long timeoutMillis, Metadata headers, ClientCall.Listener<ByteString> listener) {
        ClientCall<ByteString, ByteString> call = e.channel(0).newCall(CHECK,
                CallOptions.DEFAULT.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS));
        call.start(listener, headers);
        call.request(1);
        call.sendMessage(ByteString.EMPTY);
        call.halfClose();
    }

    private void judge(RoutingSnapshot routing) {
        RouteTable stored = routing.stored;
        long now = System.nanoTime();
        List<CellSet> sets = stored.sets();
        for (java.util.Iterator<String> it = forgotten.iterator(); it.hasNext(); ) {
            String set = it.next();
            it.remove();
            int index = stored.indexOf(set);
            if (index >= 0) {
                for (AoEndpoint e : routing.endpoints(index)) {
                    e.clearEjection();
                }
            }
            if (down.remove(set)) {
                changes.incrementAndGet();
                LOG.warning(() -> "set " + set + " UP in this gateway (an operator set it UP), route epoch " + stored.epoch());
            }
        }
        // A set an operator took down, or one that left the table, is no longer health's to judge.
        down.removeIf(name -> stored.indexOf(name) < 0 || stored.set(stored.indexOf(name)).state() != SetState.UP);
        Set<String> held = new TreeSet<>();
        for (int i = 0; i < sets.size(); i++) {
            CellSet set = sets.get(i);
            AoEndpoint[] endpoints = routing.endpoints(i);
            if (endpoints.length == 0 || set.state() != SetState.UP) {
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
            boolean failing = bad >= Math.ceil(endpoints.length * downFraction);
            if (!down.contains(set.name()) && failing) {
                if (gatewayLoad.getAsDouble() >= 1.0) {
                    // The gateway itself is overloaded (its event loops lag): calls time out because of
                    // it, not of the set. Taking sets down now would spread the trouble; judge later.
                    continue;
                }
                String guard = guard(stored, set);
                if (guard != null) {
                    held.add(set.name());
                    if (!heldUp.contains(set.name())) {
                        int failingNow = bad;
                        LOG.warning(() -> "set " + set.name() + " failing (" + failingNow + " of " + endpoints.length
                                + " endpoints ejected or failing checks) but kept UP: " + guard
                                + "; an operator decides (gatewayctl sets down " + set.name() + ")");
                    }
                    continue;
                }
                down.add(set.name());
                changes.incrementAndGet();
                int failingNow = bad;
                LOG.warning(() -> "set " + set.name() + " DOWN in this gateway (" + failingNow + " of " + endpoints.length
                        + " endpoints failing), route epoch " + stored.epoch());
            } else if (down.contains(set.name()) && allRecovered) {
                for (AoEndpoint e : endpoints) {
                    e.clearEjection();
                }
                down.remove(set.name());
                changes.incrementAndGet();
                LOG.warning(() -> "set " + set.name() + " UP in this gateway (every endpoint healthy for "
                        + recoveryNanos / 1_000_000 + " ms), route epoch " + stored.epoch());
            }
        }
        heldUp = Set.copyOf(held);
        upstreams.healthDown(down);
    }

    /**
     * Why health may not take {@code set} down now, or null when it may: it would leave its city with
     * no UP set, or hold more than {@code maxDownShare} of the city's sets down by health.
     */
    private String guard(RouteTable stored, CellSet set) {
        int citySets = 0;
        int upAfter = 0;
        int downByHealth = 1;
        for (CellSet s : stored.sets()) {
            if (!s.city().equals(set.city())) {
                continue;
            }
            citySets++;
            if (s.name().equals(set.name())) {
                continue;
            }
            if (down.contains(s.name())) {
                downByHealth++;
            } else if (s.state() == SetState.UP) {
                upAfter++;
            }
        }
        if (upAfter == 0) {
            return "it is the last UP set of city " + set.city();
        }
        if (downByHealth > Math.floor(citySets * maxDownShare + 1e-9)) {
            return "health would hold " + downByHealth + " of city " + set.city() + "'s " + citySets
                    + " sets down (upstream.health.max-down-share " + maxDownShare + ")";
        }
        return null;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
