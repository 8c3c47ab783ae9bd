package io.cellgate.server.internal;

import io.cellgate.limit.SetConcurrencyLimit;
import io.cellgate.route.CellSet;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteTable;
import io.cellgate.server.config.GatewayConfig.ChannelMode;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The gRPC channels to every AO endpoint of the route table, and the {@link RoutingSnapshot} that
 * requests read.
 *
 * <p>Channels are grpc-netty channels on the gateway's own event loops and socket channel type, with
 * a direct executor: gRPC starts no threads of its own. In {@link ChannelMode#PER_EVENT_LOOP} each
 * endpoint has one channel per event loop and a call runs entirely on the client's loop. In
 * {@link ChannelMode#LEAN} the calls go through the lean client's {@link LeanChannel}s (one per loop,
 * on that loop) and each endpoint keeps one gRPC channel for its health checks.
 *
 * <p>Threading: {@link #current()} is one volatile read from any thread. {@link #rebuild} is the
 * single writer, called by the {@link RouteEngine} on its writer thread; it keeps the channels of
 * endpoints that stay, opens channels for new ones, and shuts down (gracefully) those removed.
 */
public final class Upstreams implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Upstreams.class.getName());

    private final EventLoop[] loops;
    private final Class<? extends SocketChannel> channelType;
    private final ChannelMode mode;
    private final Map<String, AoEndpoint> byAddress = new HashMap<>();
    private volatile RoutingSnapshot current;
    private boolean closed;
    /** The last table the route engine published (the stored, shared routes). */
    private RouteTable stored;
    /** Sets this gateway's health checks hold DOWN: applied to the snapshot, never stored. */
    private Set<String> healthDown = Set.of();
    /** Sets back UP by health, by name: when (System.nanoTime) their slow start ends. */
    private final Map<String, Long> slowStartEnds = new HashMap<>();
    private final long slowStartNanos;

    private final io.cellgate.server.config.OutlierPolicy outlier;

    /** Each set's adaptive limit, by set name (kept across rebuilds); null settings: no limits. */
    private final SetConcurrencyLimit.Settings setLimit;
    private final Map<String, SetConcurrencyLimit> limitsByName = new HashMap<>();

    /** TLS to the AOs; null for plaintext. */
    private final io.netty.handler.ssl.SslContext tls;

    /**
     * @param tls a gRPC client TLS context (verifying the AOs against the configured CA bundle), or
     *            null for plaintext channels
     */
    public Upstreams(RouteEngine engine, EventLoop[] loops, Class<? extends SocketChannel> channelType, ChannelMode mode,
                     io.cellgate.server.config.OutlierPolicy outlier, SetConcurrencyLimit.Settings setLimit,
                     io.netty.handler.ssl.SslContext tls) {
        this(engine, loops, channelType, mode, outlier, setLimit, tls, java.time.Duration.ZERO);
    }

    /**
     * @param slowStart how long a set back UP by health takes to get its whole share of reads (zero: at once)
     */
    public Upstreams(RouteEngine engine, EventLoop[] loops, Class<? extends SocketChannel> channelType, ChannelMode mode,
                     io.cellgate.server.config.OutlierPolicy outlier, SetConcurrencyLimit.Settings setLimit,
                     io.netty.handler.ssl.SslContext tls, java.time.Duration slowStart) {
        this.slowStartNanos = slowStart.toNanos();
        this.outlier = outlier;
        this.setLimit = setLimit;
        this.tls = tls;
        this.loops = loops.clone();
        this.channelType = channelType;
        this.mode = mode;
        rebuild(engine.current());
        engine.addListener(this::rebuild);
    }

    RoutingSnapshot current() {
        return current;
    }

    /** Every endpoint in use and whether it is ejected now. */
    public synchronized java.util.Map<String, Boolean> ejected() {
        long now = System.nanoTime();
        java.util.Map<String, Boolean> out = new java.util.TreeMap<>();
        byAddress.forEach((address, e) -> out.put(address, e.ejected(now)));
        return out;
    }

    /** Each set's adaptive concurrency limit, by set name; empty when limits are off. */
    public synchronized Map<String, SetConcurrencyLimit> setLimits() {
        return new java.util.TreeMap<>(limitsByName);
    }

    /** Every endpoint in use and how often it was ejected since it was opened. */
    public synchronized java.util.Map<String, Long> ejections() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        byAddress.forEach((address, e) -> out.put(address, e.ejectionsTotal.get()));
        return out;
    }

    /** The number of AO endpoints with open channels. */
    public synchronized int endpointCount() {
        return byAddress.size();
    }

    /**
     * Applies this gateway's health verdicts: the sets in {@code down} whose stored state is UP are DOWN
     * in the routing snapshot, and only there (the route store and the fleet never see them).
     */
    synchronized void healthDown(Set<String> down) {
        if (closed || down.equals(healthDown)) {
            return;
        }
        if (slowStartNanos > 0) {
            long now = System.nanoTime();
            for (String name : healthDown) {
                if (!down.contains(name)) {
                    slowStartEnds.put(name, now + slowStartNanos);
                }
            }
        }
        healthDown = Set.copyOf(down);
        rebuild(stored);
    }

    /** The stored table with the health verdicts applied: what requests route by. Same epoch. */
    private RouteTable effective(RouteTable table) {
        RouteTable.Builder builder = null;
        for (String name : healthDown) {
            int index = table.indexOf(name);
            if (index >= 0 && table.set(index).state() == io.cellgate.route.SetState.UP) {
                if (builder == null) {
                    builder = table.toBuilder();
                }
                builder.apply(new io.cellgate.route.RouteChange.SetSetState(name, io.cellgate.route.SetState.DOWN));
            }
        }
        return builder == null ? table : builder.build(table.epoch());
    }

    synchronized void rebuild(RouteTable table) {
        if (closed) {
            return;
        }
        stored = table;
        Map<String, AoEndpoint> next = new HashMap<>();
        List<CellSet> sets = table.sets();
        AoEndpoint[][] bySet = new AoEndpoint[sets.size()][];
        SetConcurrencyLimit[] limits = new SetConcurrencyLimit[sets.size()];
        @SuppressWarnings({"unchecked", "rawtypes"}) // an array of a generic type can only be made raw
        Map<String, AoEndpoint[]>[] byService = new Map[sets.size()];
        for (int i = 0; i < sets.size(); i++) {
            CellSet set = sets.get(i);
            bySet[i] = endpoints(set.endpoints(), next);
            for (AoEndpoint e : bySet[i]) {
                e.set(bySet[i]);
            }
            if (setLimit != null) {
                limits[i] = limitsByName.computeIfAbsent(set.name(), name -> new SetConcurrencyLimit(setLimit, System.nanoTime()));
            }
            if (!set.serviceEndpoints().isEmpty()) {
                Map<String, AoEndpoint[]> services = new HashMap<>();
                set.serviceEndpoints().forEach((service, addresses) -> {
                    AoEndpoint[] endpoints = endpoints(addresses, next);
                    for (AoEndpoint e : endpoints) {
                        e.set(endpoints);
                    }
                    services.put(service, endpoints);
                });
                byService[i] = Map.copyOf(services);
            }
        }
        long now = System.nanoTime();
        slowStartEnds.values().removeIf(end -> end - now <= 0);
        long[] slowStartEndBySet = new long[sets.size()];
        slowStartEnds.forEach((name, end) -> {
            int index = table.indexOf(name);
            if (index >= 0) {
                slowStartEndBySet[index] = end;
            }
        });
        current = new RoutingSnapshot(effective(table), table, healthDown, bySet, byService, limits, slowStartEndBySet, slowStartNanos);
        limitsByName.keySet().removeIf(name -> table.indexOf(name) < 0);
        for (Map.Entry<String, AoEndpoint> e : byAddress.entrySet()) {
            if (!next.containsKey(e.getKey())) {
                e.getValue().shutdown();
            }
        }
        byAddress.clear();
        byAddress.putAll(next);
    }

    /** The endpoints at {@code addresses}, reusing open ones; {@code next} collects every endpoint in use. */
    private AoEndpoint[] endpoints(List<String> addresses, Map<String, AoEndpoint> next) {
        AoEndpoint[] out = new AoEndpoint[addresses.size()];
        for (int j = 0; j < addresses.size(); j++) {
            String address = addresses.get(j);
            AoEndpoint endpoint = next.get(address);
            if (endpoint == null) {
                endpoint = byAddress.get(address);
                if (endpoint == null) {
                    endpoint = open(address);
                }
                next.put(address, endpoint);
            }
            out[j] = endpoint;
        }
        return out;
    }

    private AoEndpoint open(String address) {
        int colon = address.lastIndexOf(':');
        String host = address.substring(0, colon).replace("[", "").replace("]", "");
        int port = Integer.parseInt(address.substring(colon + 1));
        int count = mode == ChannelMode.PER_EVENT_LOOP ? loops.length : 1;
        ManagedChannel[] channels = new ManagedChannel[count];
        for (int i = 0; i < count; i++) {
            // Shared channels are spread over the loops by address.
            EventLoop loop = count == 1 ? loops[Math.floorMod(address.hashCode(), loops.length)] : loops[i];
            NettyChannelBuilder builder = NettyChannelBuilder.forAddress(host, port)
                    .eventLoopGroup(loop)
                    .channelType(channelType)
                    .directExecutor()
                    // The gateway retries by itself, under its retry budget; gRPC's transparent retry would
                    // buffer every call's messages for nothing.
                    .disableRetry();
            channels[i] = (tls == null ? builder.usePlaintext() : builder.sslContext(tls)).build();
        }
        if (mode != ChannelMode.LEAN) {
            return new AoEndpoint(address, channels, outlier);
        }
        // The calls go through the lean client, one channel per loop; the gRPC channel above serves the checks.
        LeanChannel[] lean = new LeanChannel[loops.length];
        for (int i = 0; i < loops.length; i++) {
            lean[i] = new LeanChannel(host, port, loops[i], channelType, tls);
        }
        return new AoEndpoint(address, channels, lean, outlier);
    }

    /** Shuts every channel down, waiting up to {@code millis} for calls in flight. */
    public void close(long millis) {
        Map<String, AoEndpoint> endpoints;
        synchronized (this) {
            closed = true;
            endpoints = new HashMap<>(byAddress);
            byAddress.clear();
        }
        endpoints.values().forEach(AoEndpoint::shutdown);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (AoEndpoint e : endpoints.values()) {
            try {
                e.awaitTermination(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                LOG.log(Level.WARNING, "interrupted while closing AO channels", ie);
                return;
            }
        }
    }

    @Override
    public void close() {
        close(5_000);
    }
}
