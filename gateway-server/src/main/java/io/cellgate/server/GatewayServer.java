package io.cellgate.server;

import io.cellgate.limit.NanoClock;
import io.cellgate.route.FileRouteStore;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteStore;
import io.cellgate.route.RouteTable;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.server.config.HealthPolicy;
import io.cellgate.server.fleet.EtcdEndpointRegistry;
import io.cellgate.server.fleet.EtcdFleet;
import io.cellgate.server.fleet.EtcdRouteStore;
import io.cellgate.server.fleet.FleetMembership;
import io.cellgate.protocol.admin.v1.SharedSettings;
import io.cellgate.server.internal.AcceptErrorHandler;
import io.cellgate.server.internal.BufferAllocators;
import io.cellgate.server.internal.AcceptRateHandler;
import io.cellgate.server.internal.AccessLog;
import io.cellgate.server.internal.ClientChannelInitializer;
import io.cellgate.server.internal.ClientTls;
import io.cellgate.server.internal.Drain;
import io.cellgate.server.internal.EndpointDiscovery;
import io.cellgate.server.internal.EndpointsFileWatcher;
import io.cellgate.server.internal.GatewayContext;
import io.cellgate.server.internal.IdleSweep;
import io.cellgate.server.internal.OverloadMonitor;
import io.cellgate.server.internal.SetHealthTracker;
import io.cellgate.server.internal.Upstreams;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * A running gateway: the client listener, the event loops it shares with the gRPC channels to the
 * AOs, the route engine and the command table. {@link #start} binds; {@link #close} stops accepting,
 * closes client connections and upstream channels, and shuts the event loops down.
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(GatewayServer.class.getName());

    private final EventLoopGroup bossGroup;
    private final io.cellgate.server.internal.HandoffCountingLoopGroup workerGroup;
    private final RouteEngine routes;
    private final Upstreams upstreams;
    private final GatewayContext context;
    private final OverloadMonitor overloadMonitor;
    private final SetHealthTracker health;
    private final EndpointDiscovery discovery;
    /** The fleet's etcd connection, its route store and this gateway's registration; null when alone. */
    private final EtcdFleet fleet;
    private final EtcdRouteStore fleetStore;
    /** The fleet's shared settings (commands, admission rates, degrade) in etcd; null when alone. */
    private final io.cellgate.server.fleet.EtcdSettingsStore settingsStore;
    private final FleetMembership membership;
    /** When the route store was last written before this start (0 without a store). */
    private final long storeWrittenMillis;
    private final MetricsServer metricsServer;
    private final AdminServer adminServer;
    private final PushServer pushServer;
    private final PushForwarder pushForwarder;
    private final io.cellgate.server.internal.SessionDirectory directory;
    private volatile Supplier<GatewayConfig> reloadSource;
    private volatile Runnable afterDrain = this::close;
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean ready;
    private final Channel serverChannel;
    /** The WebSocket listener; null when it is off. */
    private final Channel webSocketChannel;
    private final boolean nativeTransport;
    /**
     * The control thread ({@code cellgate-control}): the one writer of the gateway's settings. The
     * admin API's changes, reloads and city switches run on it, one at a time, so none is lost to
     * another; it never serves a request.
     */
    private final java.util.concurrent.ScheduledExecutorService control;
    private volatile Thread controlThread;
    private final CitySwitchProcedure citySwitch;
    /** The configuration the process started with: what the keys a reload cannot apply still run with. */
    private final GatewayConfig startedConfig;

    private GatewayServer(GatewayConfig config) throws InterruptedException {
        this.startedConfig = config;
        this.control = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cellgate-control");
            t.setDaemon(true);
            controlThread = t;
            return t;
        });
        this.nativeTransport = useEpoll(config.transport());
        IoHandlerFactory io = nativeTransport ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerSocketChannel> serverChannelType = nativeTransport ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Class<? extends SocketChannel> channelType = nativeTransport ? EpollSocketChannel.class : NioSocketChannel.class;
        int threads = config.eventLoopThreads() > 0 ? config.eventLoopThreads() : Runtime.getRuntime().availableProcessors();
        this.bossGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("cellgate-accept", true), io);
        this.workerGroup = new io.cellgate.server.internal.HandoffCountingLoopGroup(threads, new DefaultThreadFactory("cellgate-loop", true), io);
        List<EventLoop> loopList = new ArrayList<>();
        for (EventExecutor e : workerGroup) {
            loopList.add((EventLoop) e);
        }
        EventLoop[] loops = loopList.toArray(new EventLoop[0]);
        Upstreams upstreamsOrNull = null;
        StartedRoutes startedOrNull = null;
        try {
            StartedRoutes started = startRoutes(config);
            startedOrNull = started;
            this.routes = started.engine();
            this.fleet = started.fleet();
            this.fleetStore = started.fleetStore();
            this.storeWrittenMillis = started.storeWrittenMillis();
            this.upstreams = new Upstreams(routes, loops, channelType, config.channelMode(), config.outlier(), config.setLimit(),
                    config.upstreamCaFile() == null ? null
                            : ClientTls.upstream(config.upstreamCaFile(), config.upstreamCertFile(), config.upstreamKeyFile()),
                    config.health().enabled() ? config.health().slowStart() : java.time.Duration.ZERO);
            upstreamsOrNull = upstreams;
            this.context = new GatewayContext(config, upstreams, loops, NanoClock.SYSTEM, openAccessLog(config));
            // A user revoked in the routes (by any gateway of the fleet) loses its sessions here too.
            routes.addListener(context::closeRevokedSessions);
            if (config.tlsCertFile() != null) {
                context.clientTls(ClientTls.load(config.tlsCertFile(), config.tlsKeyFile()));
            }
            this.serverChannel = listen(bossGroup, workerGroup, serverChannelType, context, new ClientChannelInitializer(context),
                    new InetSocketAddress(config.listenHost(), config.listenPort()));
            io.cellgate.server.config.WebSocketConfig ws = config.webSocket();
            this.webSocketChannel = !ws.enabled() ? null : listen(bossGroup, workerGroup, serverChannelType, context,
                    new io.cellgate.server.internal.WebSocketChannelInitializer(context,
                            ws.certFile() == null ? null : ClientTls.load(ws.certFile(), ws.keyFile())),
                    new InetSocketAddress(ws.host(), ws.port()));
        } catch (RuntimeException | InterruptedException e) {
            if (upstreamsOrNull != null) {
                upstreamsOrNull.close(0);
            }
            if (startedOrNull != null && startedOrNull.fleet() != null) {
                startedOrNull.fleetStore().close();
                startedOrNull.fleet().close();
            }
            control.shutdownNow();
            bossGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workerGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
        // Started last: nothing above can fail after their threads exist.
        this.overloadMonitor = new OverloadMonitor(context, loops);
        IdleSweep.start(context, loops);
        HealthPolicy hp = config.health();
        this.health = hp.enabled() ? new SetHealthTracker(upstreams, hp.interval(), hp.timeout(),
                hp.setDownFraction(), hp.maxDownShare(), hp.recovery(), context::loadLevel, context.signals()::eventLoopsLagging) : null;
        if (fleet != null) {
            this.settingsStore = new io.cellgate.server.fleet.EtcdSettingsStore(fleet, config.routeStoreDir());
            // Stored settings that do not validate are logged and the file's kept: they must not stop a start.
            applySharedSettings(settingsStore.boot(SharedSettingsCodec.of(context)));
            // Changes other gateways store are applied on the control thread, in the order they were stored.
            settingsStore.start(settings -> control.execute(() -> applySharedSettings(settings)));
            this.discovery = new EtcdEndpointRegistry(fleet, routes);
            this.membership = new FleetMembership(fleet, advertisedAddress(config), config.city(), config.idc(),
                    () -> String.format(Locale.ROOT, "load=%.3f connections=%d epoch=%d fenced-writes=%d", context.loadLevel(),
                            context.clientConnections(), routes.current().epoch(), context.writesInFlightToForbiddenCities()),
                    context::fleetAlternates);
            // A city switch waits for every gateway to report the forbid epoch and no writes in flight to
            // the forbidden city: say both as soon as they change, not at the next lease renewal.
            routes.addListener(table -> membership.publishSoon());
            control.scheduleWithFixedDelay(new FencedWritesReporter(), 50, 50, TimeUnit.MILLISECONDS);
            control.scheduleWithFixedDelay(this::rebalanceFleetRates, 500, 500, TimeUnit.MILLISECONDS);
        } else {
            this.settingsStore = null;
            this.membership = null;
            this.discovery = config.endpointsFile() == null ? null : new EndpointsFileWatcher(
                    config.endpointsFile(), routes, config.endpointsPoll(),
                    storeWrittenMillis > 0 ? storeWrittenMillis : System.currentTimeMillis());
        }
        this.citySwitch = new CitySwitchProcedure(routes, context, membership, control);
        MetricsServer metrics = null;
        if (config.metricsPort() >= 0) {
            try {
                metrics = MetricsServer.start(this, config.metricsHost(), config.metricsPort(), config.metricsCertFile(),
                        config.metricsKeyFile());
            } catch (IOException e) {
                throw startFailed("listen.metrics: " + config.metricsHost() + ":" + config.metricsPort()
                        + " (expected: a free address to serve /metrics on)", e, null, null);
            }
        }
        this.metricsServer = metrics;
        AdminServer admin = null;
        if (config.adminPort() >= 0) {
            try {
                admin = AdminServer.start(this, config.adminHost(), config.adminPort(), config.adminToken(), config.adminAccess(),
                        bossGroup, workerGroup,
                        serverChannelType);
            } catch (IOException e) {
                throw startFailed("admin.listen: " + config.adminHost() + ":" + config.adminPort()
                        + " (expected: a free address for the admin API)", e, metrics, null);
            }
        }
        this.adminServer = admin;
        PushServer push = null;
        PushForwarder forwarder = null;
        if (config.push().enabled()) {
            try {
                forwarder = config.sessions().directory() == null ? null : new PushForwarder(context::directory, config.push().token());
                push = PushServer.start(context, config.push(), forwarder, bossGroup, workerGroup, serverChannelType);
            } catch (IOException e) {
                throw startFailed("push.listen: " + config.push().host() + ":" + config.push().port()
                        + " (expected: a free address for the push API)", e, metrics, admin);
            }
        }
        this.pushServer = push;
        this.pushForwarder = forwarder;
        io.cellgate.server.config.SessionPolicy.Directory directoryConfig = config.sessions().directory();
        this.directory = directoryConfig == null ? null : context.startDirectory(directoryConfig, directoryConfig.advertise() != null
                ? directoryConfig.advertise() : advertisedPush(config.push().host(), push.port()));
        this.ready = true;
        LOG.info(() -> "gatewayd listening on " + serverChannel.localAddress() + (config.tlsCertFile() == null ? "" : " with TLS ("
                + ClientTls.provider() + ")") + " (" + (nativeTransport ? "epoll" : "nio")
                + ", " + threads + " event loops, " + config.commands().size() + " commands, route epoch "
                + config.routes().epoch() + ")");
    }

    /**
     * The route engine, on the embedded store when {@code routes.store-dir} is set: the store holds
     * the live routes (operators' changes survive restarts); the configuration seeds an empty store.
     */
    /**
     * The route engine, when its store was last written before this start (0 without a store), and
     * the fleet parts when the routes live in etcd.
     */
    private record StartedRoutes(RouteEngine engine, long storeWrittenMillis, EtcdFleet fleet, EtcdRouteStore fleetStore) {
    }

    private static StartedRoutes startRoutes(GatewayConfig config) {
        if (config.fleet() != null) {
            return startFleetRoutes(config);
        }
        if (config.routeStoreDir() == null) {
            return new StartedRoutes(new RouteEngine(config.routes()), 0, null, null);
        }
        try {
            FileRouteStore store = new FileRouteStore(config.routeStoreDir());
            long storeWritten = store.lastWriteMillis();
            RouteStore.Loaded loaded = store.load(config.routes().locality());
            for (String problem : loaded.problems()) {
                LOG.warning(() -> "route store " + config.routeStoreDir() + ": " + problem);
            }
            RouteTable initial = loaded.table();
            if (initial == null) {
                initial = config.routes();
                store.replace(initial);
                LOG.info(() -> "route store " + config.routeStoreDir() + ": empty, seeded from the configuration");
            } else {
                RouteTable table = initial;
                LOG.info(() -> "route store " + config.routeStoreDir() + ": loaded routes at epoch " + table.epoch());
            }
            return new StartedRoutes(new RouteEngine(initial, store), storeWritten, null, null);
        } catch (IOException e) {
            throw new UncheckedIOException("route store " + config.routeStoreDir() + ": cannot be used", e);
        }
    }

    /** Routes shared through etcd, with the local copy in {@code routes.store-dir}. */
    private static StartedRoutes startFleetRoutes(GatewayConfig config) {
        EtcdFleet fleet = new EtcdFleet(config.fleet());
        EtcdRouteStore store = null;
        try {
            store = new EtcdRouteStore(fleet, config.routeStoreDir());
            RouteTable initial = store.boot(config.routes());
            RouteEngine engine = new RouteEngine(initial, store);
            store.start(engine);
            fleet.startProbe();
            return new StartedRoutes(engine, 0, fleet, store);
        } catch (IOException | RuntimeException e) {
            if (store != null) {
                store.close();
            }
            fleet.close();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("fleet.store etcd: cannot start: " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    /** The address peers and clients reach this gateway at: {@code fleet.etcd.advertise}, else the bound one. */
    private String advertisedAddress(GatewayConfig config) {
        if (config.fleet().advertise() != null) {
            return config.fleet().advertise();
        }
        String host = config.listenHost();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            try {
                host = InetAddress.getLocalHost().getHostAddress();
            } catch (UnknownHostException e) {
                host = "127.0.0.1";
            }
            String chosen = host;
            LOG.warning(() -> "fleet: listening on every address; registered as " + chosen + ":" + port()
                    + " (set fleet.etcd.advertise to the address clients use)");
        }
        return host + ":" + port();
    }

    private static AccessLog openAccessLog(GatewayConfig config) {
        if (config.accessLogFile() == null) {
            return null;
        }
        try {
            Path file = config.accessLogFile();
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            java.util.function.Supplier<java.io.Writer> open = () -> {
                try {
                    return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                } catch (IOException e) {
                    throw new UncheckedIOException("access-log.file: " + file + " (expected: a writable file)", e);
                }
            };
            return new AccessLog(open.get(), open, config.accessLogSample(), config.accessLogRing());
        } catch (IOException e) {
            throw new UncheckedIOException("access-log.file: " + config.accessLogFile() + " (expected: a writable file)", e);
        }
    }

    /** Opens the access log file again (after logrotate moved it); false when there is no access log. */
    public boolean reopenLogs() {
        AccessLog log = context.accessLog();
        return log != null && log.reopen();
    }

    /** Starts a gateway with {@code config} and binds its client listener. */
    public static GatewayServer start(GatewayConfig config) throws InterruptedException {
        return new GatewayServer(config);
    }

    private static boolean useEpoll(GatewayConfig.Transport transport) {
        switch (transport) {
            case NIO:
                return false;
            case EPOLL:
                Epoll.ensureAvailability();
                return true;
            default:
                return Epoll.isAvailable();
        }
    }

    /** This gateway's fleet registration and view of its peers, or null when it runs alone. */
    public FleetMembership fleetMembership() {
        return membership;
    }

    /** The fleet's etcd connection (staleness), or null when the gateway runs alone. */
    public EtcdFleet fleet() {
        return fleet;
    }

    /** The discovery source (file watcher or etcd registry), or null when discovery is off. */
    public EndpointDiscovery discovery() {
        return discovery;
    }

    /** A client listener (TCP or WebSocket) on the gateway's loops, with the accept rate and error steps. */
    private static Channel listen(EventLoopGroup boss, EventLoopGroup workers, Class<? extends ServerSocketChannel> type,
                                  GatewayContext context, ChannelInitializer<? extends Channel> children, InetSocketAddress address)
            throws InterruptedException {
        return new ServerBootstrap()
                .group(boss, workers)
                .channel(type)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.ALLOCATOR, BufferAllocators.clients())
                .childOption(ChannelOption.ALLOCATOR, BufferAllocators.clients())
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, BufferAllocators.receiveSizes())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel listener) {
                        listener.pipeline().addLast(new AcceptErrorHandler(context), new AcceptRateHandler(context));
                    }
                })
                .childHandler(children)
                .bind(address)
                .sync()
                .channel();
    }

    /** The push API address other gateways reach: the listener's host (loopback when it listens on every address) and port. */
    private static String advertisedPush(String host, int port) {
        String h = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        return (h.contains(":") ? "[" + h + "]" : h) + ":" + port;
    }

    /** The bound WebSocket port, or -1 when it is off. */
    public int webSocketPort() {
        return webSocketChannel == null ? -1 : ((InetSocketAddress) webSocketChannel.localAddress()).getPort();
    }

    /** Forwards pushes and kicks to the fleet's other gateways; null without a session directory. */
    PushForwarder pushForwarder() {
        return pushForwarder;
    }

    /** The bound push API port, or -1 when it is off. */
    public int pushPort() {
        return pushServer == null ? -1 : pushServer.port();
    }

    /** The bound admin API port, or -1 when it is off. */
    public int adminPort() {
        return adminServer == null ? -1 : adminServer.port();
    }

    /** Where {@code reload} (admin API) reads the configuration from, e.g. the daemon's file. */
    public void reloadSource(Supplier<GatewayConfig> source) {
        this.reloadSource = source;
    }

    /** What runs after a drain started by the admin API (default: close the gateway). */
    public void afterDrain(Runnable action) {
        this.afterDrain = action;
    }

    /** Reloads from {@link #reloadSource}: what it did with each changed key. */
    ReloadOutcome reloadFromSource() {
        Supplier<GatewayConfig> source = reloadSource;
        if (source == null) {
            throw io.grpc.Status.FAILED_PRECONDITION.withDescription(
                    "this gateway was not started from a configuration file (expected: gatewayd --config FILE)").asRuntimeException();
        }
        return reload(source.get());
    }

    /** Starts a drain in the background (once), then runs {@link #afterDrain}; false when one is running. */
    public boolean startDrain() {
        if (!draining.compareAndSet(false, true)) {
            return false;
        }
        Thread t = new Thread(() -> {
            try {
                GatewayConfig c = config();
                drain(c.drainWindow(), c.drainTimeout());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            afterDrain.run();
        }, "cellgate-drain");
        t.setDaemon(true);
        t.start();
        return true;
    }

    /** The bound metrics port, or -1 when metrics are off. */
    public int metricsPort() {
        return metricsServer == null ? -1 : metricsServer.port();
    }

    /** True while the gateway takes new clients: bound and not closing. */
    public boolean ready() {
        return ready && serverChannel.isActive();
    }

    /** The bound client port (useful when configured as 0). */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** This gateway's set health (its own verdicts, never stored); null when health checks are off. */
    public SetHealthTracker health() {
        return health;
    }

    /** Set health verdict changes (a set taken down by health, or brought back) since start; 0 when checks are off. */
    public long healthChanges() {
        return health == null ? 0 : health.changes();
    }

    /** Each set's adaptive concurrency limit, by set name; empty when set limits are off. */
    public java.util.Map<String, io.cellgate.limit.SetConcurrencyLimit> setLimits() {
        return context.setLimits();
    }

    /** The route table requests use now: the stored routes with this gateway's health verdicts applied. */
    public io.cellgate.route.RouteTable routing() {
        return context.routeTable();
    }

    public RouteEngine routes() {
        return routes;
    }

    /** The running configuration (the last one applied by {@link #reload}). */
    public GatewayConfig config() {
        return context.config();
    }

    public boolean nativeTransport() {
        return nativeTransport;
    }

    /**
     * Tasks given to the gateway's event loops by other threads since it started: zero per request
     * when a request's client connection and its upstream call share a loop
     * ({@code upstream.channel-mode: lean} or {@code per-event-loop}).
     */
    public long eventLoopHandoffs() {
        return workerGroup.handoffs();
    }

    /** Shared state of the running gateway: counters, command table, load level. */
    public GatewayContext context() {
        return context;
    }

    /**
     * Applies the limits of {@code next} (command table, admission settings) without dropping a
     * connection. Listener, topology and routes are not changed by this call.
     */
    public void updateLimits(GatewayConfig next) {
        context.limits(next);
    }

    /**
     * Applies a reloaded configuration without dropping a connection. Every key that changed is
     * either applied (commands, limits, login, admission, degrade, dyes, sessions' limits, push rates,
     * logging, drain, alternates, access-log sampling, the retry budget, a rotated client certificate;
     * the routes when they live in memory only) or named: as needing a restart (listeners, transport,
     * event loops, route store, fleet, upstream channels, health and limits, discovery, the access log's
     * file, the admin API, the push listener), or, with a route store, as kept by the store (the routes
     * and topology in the file only seed an empty store). See {@link ReloadOutcome#APPLIED}.
     */
    public ReloadOutcome reload(GatewayConfig next) {
        return onControl(() -> reloadNow(next));
    }

    /**
     * Runs {@code task} on the control thread and returns its result (at once when called there): the
     * gateway's settings have one writer, so concurrent changes apply one after the other, none lost.
     */
    <T> T onControl(java.util.concurrent.Callable<T> task) {
        if (Thread.currentThread() == controlThread) {
            return call(task);
        }
        java.util.concurrent.Future<T> result;
        try {
            result = control.submit(() -> call(task));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw io.grpc.Status.UNAVAILABLE.withDescription("the gateway is closing").asRuntimeException();
        }
        try {
            return result.get();
        } catch (InterruptedException e) {
            result.cancel(false);
            Thread.currentThread().interrupt();
            throw io.grpc.Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static <T> T call(java.util.concurrent.Callable<T> task) {
        try {
            return task.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Makes {@code change} on the shared settings (commands, admission rates, degrade) and applies the
     * result: with a fleet, stored in etcd first (compare-and-swap; every gateway applies it from its
     * watch), so it fails when etcd does not answer; alone, applied here only. On the control thread.
     */
    SharedSettings changeSettings(String what, java.util.function.UnaryOperator<SharedSettings> change) {
        assert Thread.currentThread() == controlThread;
        SharedSettings next;
        if (settingsStore == null) {
            next = change.apply(SharedSettingsCodec.of(context));
        } else {
            try {
                // Validated before it is stored: settings every gateway would refuse never reach etcd.
                next = settingsStore.update(s -> SharedSettingsCodec.validate(change.apply(s).toBuilder()
                        .setChangedBy(membership.address()).setChange(what).build()));
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage() + "; the change was not made (a fleet setting changes in etcd first)", e);
            }
        }
        SharedSettingsCodec.apply(next, context);
        return next;
    }

    /** The shared settings in use: the fleet's with a fleet, this gateway's own otherwise. */
    public SharedSettings sharedSettings() {
        return settingsStore != null ? settingsStore.current() : SharedSettingsCodec.of(context);
    }

    /**
     * Gives this gateway its share of every command's fleet rate: an equal part, one over the serving
     * gateways of the fleet (itself included) as the registrations say. Parts weighted by each gateway's
     * client connections would follow an uneven balancer, but the gateways read the counts at different
     * moments, so while the counts change the parts do not add up to the whole; equal parts do whenever
     * the gateways agree on who is serving. A gateway cut off from etcd keeps the last view, so the last
     * share. Every 500 ms on the control thread; the limiters change only when the share moves by more
     * than 2%.
     */
    private void rebalanceFleetRates() {
        int serving = 1;
        for (FleetMembership.Member m : membership.members()) {
            if (!m.self() && m.state().equals("serving")) {
                serving++;
            }
        }
        double share = 1.0 / serving;
        if (context.fleetShare(share)) {
            LOG.fine(() -> String.format(Locale.ROOT, "fleet: this gateway's share of the fleet rates is now %.3f", share));
        }
    }

    /** Settings another gateway stored (or etcd's after an outage): applied unless they do not validate. */
    private void applySharedSettings(SharedSettings settings) {
        try {
            SharedSettingsCodec.apply(settings, context);
        } catch (IllegalArgumentException e) {
            LOG.warning(() -> "fleet: shared settings at epoch " + settings.getEpoch() + " not applied: " + e.getMessage());
        }
    }

    CitySwitchProcedure citySwitch() {
        return citySwitch;
    }

    /** While a city's writes are forbidden: publishes this gateway's writes in flight to it whenever that changes. */
    private final class FencedWritesReporter implements Runnable {
        private long lastEpoch = -1;
        private long lastWrites = -1;

        @Override
        public void run() {
            RouteTable t = routes.current();
            if (t.forbiddenCities().isEmpty() && lastWrites <= 0) {
                return;
            }
            long writes = context.writesInFlightToForbiddenCities();
            if (writes != lastWrites || t.epoch() != lastEpoch) {
                lastWrites = writes;
                lastEpoch = t.epoch();
                membership.publishSoon();
            }
        }
    }

    private ReloadOutcome reloadNow(GatewayConfig next) {
        GatewayConfig running = context.config();
        ReloadOutcome outcome = ReloadOutcome.of(startedConfig, running, next);
        if (running.tlsCertFile() != null && next.tlsCertFile() != null) {
            // Certificate rotation: the files are read again, changed names or not; new connections use them,
            // open ones keep theirs.
            context.clientTls(ClientTls.load(next.tlsCertFile(), next.tlsKeyFile()));
            LOG.info(() -> "reload: client TLS certificate read again from " + next.tlsCertFile());
        }
        if (!running.logging().equals(next.logging())) {
            LogFormat.install(next.logging().json() ? LogFormat.Style.JSON : LogFormat.Style.TEXT, next.logging().level());
            LOG.info(() -> "reload: logging now " + (next.logging().json() ? "json" : "text") + " at " + next.logging().level());
        }
        if (context.accessLog() != null) {
            context.accessLog().sample(next.accessLogSample());
        }
        if (!running.admission().window().equals(next.admission().window())) {
            overloadMonitor.window(next.admission().window());
        }
        context.reload(next);
        if (settingsStore != null) {
            // The file's commands and admission rates only seed the fleet's store: the stored ones stay.
            applySharedSettings(settingsStore.current());
        }
        boolean cityChanged = !running.city().equals(next.city()) || !running.idc().equals(next.idc());
        if (running.routeStoreDir() == null && running.fleet() == null && !cityChanged) {
            RouteTable table = routes.replace(next.routes());
            LOG.info(() -> "reload: routes replaced from the configuration, epoch " + table.epoch());
        }
        LOG.info(() -> "reload: " + outcome.describe());
        return outcome;
    }

    /**
     * Drains the gateway: readiness turns false, the listener closes, every client gets go_away with a
     * reconnect delay spread at random over {@code reconnectWindow}, new requests are answered
     * SHUTTING_DOWN, calls in flight finish, and each connection closes when it has none. Waits (on
     * the calling thread, never an event loop) until every connection is closed or {@code timeout}.
     *
     * @return true when every client connection closed within the timeout
     */
    public boolean drain(Duration reconnectWindow, Duration timeout) throws InterruptedException {
        ready = false;
        if (membership != null) {
            membership.draining();
        }
        serverChannel.close().syncUninterruptibly();
        if (webSocketChannel != null) {
            webSocketChannel.close().syncUninterruptibly();
        }
        long windowMillis = reconnectWindow.toMillis();
        for (Channel ch : context.clientChannels()) {
            int delay = windowMillis == 0 ? 0 : (int) ThreadLocalRandom.current().nextLong(windowMillis + 1);
            ch.eventLoop().execute(() -> ch.pipeline().fireUserEventTriggered(new Drain(delay)));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (context.clientConnections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        int left = context.clientConnections();
        if (left > 0) {
            LOG.warning(() -> "drain: " + left + " connections still open after " + timeout.toMillis() + " ms; closing them");
        } else {
            LOG.info("drain: every client connection closed");
        }
        return left == 0;
    }

    /**
     * A listener could not be bound after the event loops, the monitor and health started: stops what
     * started (the metrics and admin servers when they did), and says what failed.
     */
    private UncheckedIOException startFailed(String what, IOException e, MetricsServer metrics, AdminServer admin) {
        if (admin != null) {
            admin.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (health != null) {
            health.close();
        }
        overloadMonitor.close();
        closeQuietly();
        return new UncheckedIOException(what, e);
    }

    private void closeQuietly() {
        control.shutdownNow();
        serverChannel.close().syncUninterruptibly();
        if (webSocketChannel != null) {
            webSocketChannel.close().syncUninterruptibly();
        }
        upstreams.close(0);
        workerGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        bossGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ready = false;
        serverChannel.close().syncUninterruptibly();
        if (webSocketChannel != null) {
            webSocketChannel.close().syncUninterruptibly();
        }
        if (metricsServer != null) {
            metricsServer.close();
        }
        if (adminServer != null) {
            adminServer.close();
        }
        if (directory != null) {
            directory.close();
        }
        if (pushServer != null) {
            pushServer.close();
        }
        if (pushForwarder != null) {
            pushForwarder.close();
        }
        overloadMonitor.close();
        if (health != null) {
            health.close();
        }
        control.shutdownNow();
        if (membership != null) {
            membership.close();
        }
        if (discovery != null) {
            discovery.close();
        }
        if (fleet != null) {
            settingsStore.close();
            fleetStore.close();
            fleet.close();
        }
        upstreams.close(2_000);
        if (context.accessLog() != null) {
            context.accessLog().close();
        }
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
