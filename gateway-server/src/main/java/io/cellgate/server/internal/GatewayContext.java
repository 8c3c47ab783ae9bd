package io.cellgate.server.internal;

import io.cellgate.limit.NanoClock;
import io.cellgate.limit.OverloadSignals;
import io.cellgate.protocol.LoginToken;
import io.cellgate.server.config.GatewayConfig;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * What every connection's handlers share: configuration, the command table, the upstreams and the
 * event loops. The command table is a snapshot behind one volatile field.
 */
public final class GatewayContext {
    /**
     * The gateway of a listener's channels, for shared handlers: set on the listening channel, the
     * parent of every client channel, not on each of them (an attribute costs an idle connection
     * about 40 bytes); a channel without a parent (a test's) carries its own.
     */
    static final io.netty.util.AttributeKey<GatewayContext> KEY = io.netty.util.AttributeKey.valueOf("cellgate.context");


    /** What an operator sees of one connection. */
    public record SessionInfo(String sessionId, long uid, String remote, int inFlight, String device, String deviceId, String appVersion) {
    }

    static GatewayContext of(io.netty.channel.ChannelHandlerContext ctx) {
        return of(ctx.channel());
    }

    static GatewayContext of(io.netty.channel.Channel ch) {
        return holder(ch).attr(KEY).get();
    }

    /** Makes {@code context} the gateway of client channel {@code ch} (and of its listener's other channels). */
    static void attach(io.netty.channel.Channel ch, GatewayContext context) {
        io.netty.util.Attribute<GatewayContext> attr = holder(ch).attr(KEY);
        if (attr.get() != context) {
            attr.set(context);
        }
    }

    private static io.netty.channel.Channel holder(io.netty.channel.Channel ch) {
        return ch.parent() != null ? ch.parent() : ch;
    }

    /** The running configuration; replaced as a whole by a reload. */
    volatile GatewayConfig config;
    final Upstreams upstreams;
    final GatewayCounters counters = new GatewayCounters();
    final OverloadSignals signals;
    /** Every client connection; closed ones leave by themselves. */
    final ClientChannels clients;
    private final NanoClock clock;
    private volatile Admissions admissions;
    /** Retries of idempotent calls earn and spend here. */
    /** Replaced when a reload changes upstream.retry-budget; read once per use. */
    volatile io.cellgate.limit.RetryBudget retryBudget;
    /** Null when the access log is off. */
    final AccessLog accessLog;
    private final IdentityHashMap<EventLoop, Integer> loopIndex = new IdentityHashMap<>();
    private final EventLoop[] loops;
    /** The logged-in connections by user. */
    final UserSessions userSessions = new UserSessions();
    /** What every logged-in connection's frames go to. */
    final Dispatcher dispatcher = new Dispatcher(this);
    /** What the frame codecs of the running configuration share; replaced when a reload changes the frame limits. */
    private volatile ClientFrameCodec.Shared codecShared;

    /** What a new connection's frame codec shares with the others of the running configuration. Any thread. */
    ClientFrameCodec.Shared codecShared() {
        GatewayConfig c = config;
        ClientFrameCodec.Shared shared = codecShared;
        if (shared == null || shared.maxFrameBytes() != c.maxFrameBytes()
                || shared.preLoginFrameBytes() != Math.min(c.edge().preLoginFrameBytes(), c.maxFrameBytes())) {
            // Racing loops may each build one: equal, and the last one stays.
            shared = new ClientFrameCodec.Shared(c.maxFrameBytes(), c.edge().preLoginFrameBytes(), counters.framesIn, dispatcher);
            codecShared = shared;
        }
        return shared;
    }
    /** Pushes from services to clients. */
    private final Pushes pushes;
    /** Users joined to topics by services. */
    private final Topics topics = new Topics();
    /** One response writer per event loop, by loop index. */
    private final ResponseWriter[] responseWriters;
    private final FastThreadLocal<Verifier> tokens;
    private volatile CommandTable commands;

    /**
     * Time from dispatch to response, per command; registered by {@code GatewayMetrics}. Recorded on
     * the event loops into per-loop stripes (no lock), added up when scraped.
     */
    final LatencyHistogram requestDuration;

    /** The gateway's own part of each request: the time to dispatch minus the AO call. */
    final LatencyHistogram gatewayDuration;

    public GatewayContext(GatewayConfig config, Upstreams upstreams, EventLoop[] loops, NanoClock clock, AccessLog accessLog) {
        this.accessLog = accessLog;
        this.retryBudget = new io.cellgate.limit.RetryBudget(config.retryRatio(), config.retryMax(), config.retryWindow().toSeconds());
        this.config = config;
        this.dyeRules = config.dyeRules();
        this.requestDuration = new LatencyHistogram("cellgate_request_duration_seconds",
                "Time from dispatch to the response written, per command (gateway and AO)", "cmd", loops.length,
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10);
        this.gatewayDuration = new LatencyHistogram("cellgate_gateway_duration_seconds",
                "Time a request spends in the gateway itself (dispatch to response, minus the AO call), per command", "cmd",
                loops.length, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05);
        this.commands = new CommandTable(config.commands(), 1.0, clock, null, requestDuration, gatewayDuration);
        this.upstreams = upstreams;
        this.clock = clock;
        this.signals = new OverloadSignals(Admissions.limits(config.admission()));
        this.admissions = new Admissions(config.admission(), signals, clock);
        this.loops = loops.clone();
        this.clients = new ClientChannels(loops);
        this.pushes = new Pushes(this, userSessions);
        this.responseWriters = new ResponseWriter[loops.length];
        for (int i = 0; i < loops.length; i++) {
            responseWriters[i] = new ResponseWriter(this, loops[i]);
            loopIndex.put(loops[i], i);
        }
        this.tokenSource = new TokenSource(config);
        // One Mac per key per event loop: Mac is not thread-safe and login verification must not lock.
        this.tokens = new FastThreadLocal<>();
    }

    /**
     * The token keys of one configuration; a loop's verifier is built again when a reload brings other
     * keys, so keys rotate without a restart (tokens of every listed key keep logging in).
     */
    private static final class TokenSource {
        final byte[] v1Secret;
        final java.util.Map<String, byte[]> keys;
        final long maxLifetimeSeconds;

        TokenSource(GatewayConfig config) {
            this.v1Secret = config.tokenSecret() == null ? null : config.tokenSecret().clone();
            this.keys = config.tokenKeys().keys();
            this.maxLifetimeSeconds = config.tokenKeys().maxLifetime().toSeconds();
        }

        boolean sameAs(GatewayConfig config) {
            if (!java.util.Arrays.equals(v1Secret, config.tokenSecret()) || maxLifetimeSeconds != config.tokenKeys().maxLifetime().toSeconds()
                    || !keys.keySet().equals(config.tokenKeys().keys().keySet())) {
                return false;
            }
            return keys.entrySet().stream().allMatch(e -> java.util.Arrays.equals(e.getValue(), config.tokenKeys().keys().get(e.getKey())));
        }

        LoginToken verifier() {
            return new LoginToken(v1Secret, keys, maxLifetimeSeconds);
        }
    }

    /** A loop's verifier and the keys it was built from. */
    private record Verifier(TokenSource source, LoginToken token) {
    }

    private volatile TokenSource tokenSource;

    CommandTable commands() {
        return commands;
    }

    Admissions admissions() {
        return admissions;
    }

    /** The access log, or null when it is off. */
    public AccessLog accessLog() {
        return accessLog;
    }

    public GatewayCounters counters() {
        return counters;
    }

    public CommandTable commandTable() {
        return commands;
    }

    public LatencyHistogram requestDuration() {
        return requestDuration;
    }

    public LatencyHistogram gatewayDuration() {
        return gatewayDuration;
    }

    /** Every AO endpoint and whether it is ejected now. */
    public java.util.Map<String, Boolean> endpointsEjected() {
        return upstreams.ejected();
    }

    /** Calls in flight per set of the routes in use, by set name. */
    public java.util.Map<String, Long> inFlightBySet() {
        RoutingSnapshot routing = upstreams.current();
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (int i = 0; i < routing.table.sets().size(); i++) {
            long n = 0;
            for (AoEndpoint e : routing.endpoints(i)) {
                n += e.outstanding.get();
            }
            out.put(routing.table.set(i).name(), n);
        }
        return out;
    }

    public int clientConnections() {
        return clients.size();
    }

    /**
     * Open client connections per remote address ({@link SourcePrefix} key: an IPv4 address, an IPv6
     * prefix), kept only while admission.max-connections-per-address is set.
     */
    private final java.util.concurrent.ConcurrentHashMap<Long, java.util.concurrent.atomic.AtomicInteger> byAddress =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Counts a new connection from {@code address} against {@code limit}; false (nothing counted) when
     * the address already holds {@code limit}. A counted connection must be {@link #releaseAddress}ed.
     */
    boolean acquireAddress(long address, int limit) {
        java.util.concurrent.atomic.AtomicInteger n = byAddress.computeIfAbsent(address, a -> new java.util.concurrent.atomic.AtomicInteger());
        if (n.incrementAndGet() > limit) {
            releaseAddress(address);
            return false;
        }
        return true;
    }

    void releaseAddress(long address) {
        byAddress.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    /** Live peers learned from the fleet, preferred over the configured alternates when there are any. */
    private volatile java.util.List<String> fleetAlternates = java.util.List.of();

    public void fleetAlternates(java.util.List<String> alternates) {
        this.fleetAlternates = java.util.List.copyOf(alternates);
    }

    /** The gateways named in go_away: live peers in this city from the fleet, else the configured ones. */
    public java.util.List<String> alternates() {
        java.util.List<String> fleet = fleetAlternates;
        return fleet.isEmpty() ? config.alternates() : fleet;
    }

    /**
     * The logged-in connections, at most {@code limit}. The in-flight counts are read from another
     * thread than the connections' own: a recent value, good for display.
     */
    public java.util.List<SessionInfo> sessions(int limit) {
        java.util.List<SessionInfo> out = new java.util.ArrayList<>();
        for (io.netty.channel.Channel ch : clients) {
            ClientSession s = ClientSession.of(ch);
            if (s != null) {
                out.add(info(s));
                if (out.size() >= limit) {
                    break;
                }
            }
        }
        return out;
    }

    private static SessionInfo info(ClientSession s) {
        return new SessionInfo(s.sessionId(), s.uid, String.valueOf(s.channel.remoteAddress()), s.inFlightCount(), s.device, s.deviceId,
                s.appVersion);
    }

    /** Sends go_away to the connection of {@code sessionId} and closes it once its calls finish. */
    public boolean kick(String sessionId, int reconnectAfterMillis) {
        for (io.netty.channel.Channel ch : clients) {
            ClientSession s = ClientSession.of(ch);
            if (s != null && s.sessionId().equals(sessionId)) {
                ch.eventLoop().execute(() -> ch.pipeline().fireUserEventTriggered(Drain.kicked(reconnectAfterMillis)));
                return true;
            }
        }
        return false;
    }

    /**
     * Closes the sessions of users {@code table} revokes now (go_away UNAUTHENTICATED and a close,
     * calls in flight cancelled). Called with every published route table; scans the connections only
     * when the table revokes someone.
     */
    public void closeRevokedSessions(io.cellgate.route.RouteTable table) {
        io.cellgate.route.RouteTable previous = lastRevocations;
        lastRevocations = table;
        if (table.revocationCount() == 0) {
            return;
        }
        // Only revocations new in this table (or extended) can close a session: the others closed theirs
        // when they arrived. Most route changes bring none, and then no connection is looked at.
        long now = System.currentTimeMillis() / 1000;
        java.util.Map<Long, Long> fresh = new java.util.HashMap<>();
        table.forEachRevocation((uid, until) -> {
            if (until > now && (previous == null || previous.revokedUntil(uid) != until)) {
                fresh.put(uid, until);
            }
        });
        if (fresh.isEmpty()) {
            return;
        }
        for (io.netty.channel.Channel ch : clients) {
            ClientSession s = ClientSession.of(ch);
            if (s == null) {
                continue;
            }
            Long until = fresh.get(s.uid);
            if (until != null) {
                ch.eventLoop().execute(() -> {
                    if (ch.isActive() && !s.revoked) {
                        s.revoked = true;
                        counters.sessionsRevoked.increment();
                        LastWord.sayAndClose(ch, Frames.goAway(io.cellgate.protocol.v1.Code.UNAUTHENTICATED, "revoked until "
                                + until, 0, java.util.List.of()));
                    }
                });
            }
        }
    }

    /** The table {@link #closeRevokedSessions} last saw; route-engine listeners run one at a time. */
    private volatile io.cellgate.route.RouteTable lastRevocations;

    /** Tells every AO of {@code city} its fence in the current routes now; see {@link FenceNotice}. Blocks. */
    public FenceNotice.Outcome tellFence(String city, long timeoutMillis) throws InterruptedException {
        return FenceNotice.tell(upstreams.current(), city, timeoutMillis);
    }

    /** Writes and center calls in flight to the sets of {@code city}, counted on their endpoints. */
    public long writesInFlightToCity(String city) {
        RoutingSnapshot routing = upstreams.current();
        long total = 0;
        java.util.Set<AoEndpoint> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < routing.table.sets().size(); i++) {
            if (routing.table.set(i).city().equals(city)) {
                for (AoEndpoint e : routing.endpoints(i)) {
                    if (seen.add(e)) {
                        total += e.writesOutstanding.get();
                    }
                }
            }
        }
        return total;
    }

    /** Writes in flight to the cities whose writes the current routes forbid (a city switch waits for 0). */
    public long writesInFlightToForbiddenCities() {
        long total = 0;
        for (String city : upstreams.current().table.forbiddenCities()) {
            total += writesInFlightToCity(city);
        }
        return total;
    }

    /** Publishes a new command table built from {@code specs}; counters carry over. */
    public void commands(java.util.List<io.cellgate.server.config.CommandSpec> specs) {
        this.commands = new CommandTable(specs, commands.fleetShare(), clock, commands, requestDuration, gatewayDuration);
    }

    /**
     * This gateway's share of every command's fleet rate (one over the fleet's serving gateways):
     * the table is built again when a command has a fleet rate and the share moved by more than 2%, so
     * the limiters' buckets are not refilled on every small change. On the control thread.
     *
     * @return true when the limiters now admit {@code share}
     */
    public boolean fleetShare(double share) {
        CommandTable t = commands;
        double now = t.fleetShare();
        boolean anyFleetRate = t.specs().stream().anyMatch(s -> s.fleetRate() > 0);
        if (!anyFleetRate || Math.abs(share - now) <= 0.02 * now) {
            return false;
        }
        this.commands = new CommandTable(t.specs(), share, clock, t, requestDuration, gatewayDuration);
        return true;
    }

    /**
     * The dye rules in use: the configuration's, or the fleet's shared ones. Read at every login; set on
     * the control thread.
     */
    private volatile java.util.List<io.cellgate.server.config.DyeRule> dyeRules;

    public java.util.List<io.cellgate.server.config.DyeRule> dyeRules() {
        return dyeRules;
    }

    public void dyeRules(java.util.List<io.cellgate.server.config.DyeRule> rules) {
        this.dyeRules = java.util.List.copyOf(rules);
    }

    /** The routes in use (those the upstream channels were built for). */
    public io.cellgate.route.RouteTable routes() {
        return upstreams.current().table;
    }

    /** The admission settings in use. */
    public io.cellgate.server.config.AdmissionConfig admission() {
        return admissions.config;
    }

    /** Applies new admission settings (the priority threshold restarts open and adapts again). */
    public void admission(io.cellgate.server.config.AdmissionConfig next) {
        signals.limits(Admissions.limits(next));
        this.admissions = new Admissions(next, signals, clock);
    }

    /** The operator's degrade cap: only priorities up to {@code lowestAdmitted}; null clears it. */
    public void degrade(io.cellgate.limit.Priority lowestAdmitted) {
        admissions.control.priority().degrade(lowestAdmitted);
    }

    public io.cellgate.limit.Priority degradeLevel() {
        return admissions.control.priority().degradeLevel();
    }

    /** The open client connections (a live view; closed ones leave by themselves). */
    public Iterable<io.netty.channel.Channel> clientChannels() {
        return clients;
    }

    public OverloadSignals signals() {
        return signals;
    }

    /** Levels below this are admitted (of {@code PriorityAdmission.LEVELS}). */
    public int priorityThreshold() {
        return admissions.control.priority().effectiveThreshold();
    }

    /** Every AO endpoint in use and how often it was ejected since it was opened. */
    public java.util.Map<String, Long> endpointEjections() {
        return upstreams.ejections();
    }

    /** Each set's adaptive concurrency limit, by set name; empty when limits are off. */
    public java.util.Map<String, io.cellgate.limit.SetConcurrencyLimit> setLimits() {
        return upstreams.setLimits();
    }

    /** The route table requests use now. */
    public io.cellgate.route.RouteTable routeTable() {
        return upstreams.current().table;
    }

    /** The current load level of the admission control (1.0 = at the overload watermark). */
    public double loadLevel() {
        return admissions.control.loadLevel();
    }

    /**
     * Applies new limits at run time: the command table (per-command rates, priorities, timeouts)
     * and the admission settings. Connections stay; requests already dispatched keep what they read.
     * Decision counters carry over. The priority threshold restarts fully open and adapts again.
     */
    public void limits(GatewayConfig next) {
        this.commands = new CommandTable(next.commands(), commands.fleetShare(), clock, commands, requestDuration, gatewayDuration);
        signals.limits(Admissions.limits(next.admission()));
        this.admissions = new Admissions(next.admission(), signals, clock);
    }

    /**
     * Applies a reloaded configuration: limits and commands (as {@link #limits}), and the settings
     * read per connection or per request (timeouts, frame and in-flight limits, alternates). New
     * connections get the new values at once; open ones keep their login deadline and idle timer.
     */
    public void reload(GatewayConfig next) {
        limits(next);
        this.dyeRules = next.dyeRules();
        if (next.retryRatio() != config.retryRatio() || next.retryMax() != config.retryMax()
                || !next.retryWindow().equals(config.retryWindow())) {
            this.retryBudget = new io.cellgate.limit.RetryBudget(next.retryRatio(), next.retryMax(), next.retryWindow().toSeconds());
        }
        if (!tokenSource.sameAs(next)) {
            this.tokenSource = new TokenSource(next);
        }
        this.config = next;
    }

    /** TLS of the client listener; null when it is off. New connections read it; open ones keep theirs. */
    private volatile io.netty.handler.ssl.SslContext clientTls;

    public void clientTls(io.netty.handler.ssl.SslContext tls) {
        this.clientTls = tls;
    }

    io.netty.handler.ssl.SslContext clientTls() {
        return clientTls;
    }

    public GatewayConfig config() {
        return config;
    }

    LoginToken tokens() {
        TokenSource source = tokenSource;
        Verifier v = tokens.get();
        if (v == null || v.source() != source) {
            v = new Verifier(source, source.verifier());
            tokens.set(v);
        }
        return v.token();
    }

    ResponseWriter responseWriter(int loopIndex) {
        return responseWriters[loopIndex];
    }

    int loopCount() {
        return loops.length;
    }

    EventLoop loop(int index) {
        return loops[index];
    }

    NanoClock clock() {
        return clock;
    }

    private volatile SessionDirectory directory;

    /** Starts the fleet's session directory: this gateway's users are written to it from now on. */
    public SessionDirectory startDirectory(io.cellgate.server.config.SessionPolicy.Directory config, String gatewayId) {
        SessionDirectory d = new SessionDirectory(config, gatewayId, userSessions);
        this.directory = d;
        return d;
    }

    /** The fleet's session directory; null when there is none. */
    public SessionDirectory directory() {
        return directory;
    }

    public Pushes pushes() {
        return pushes;
    }

    public Topics topics() {
        return topics;
    }

    /** The connections of {@code uid} here, for display; see {@link #sessions}. */
    public java.util.List<SessionInfo> sessionsOf(long uid) {
        java.util.List<SessionInfo> out = new java.util.ArrayList<>();
        for (ClientSession s : userSessions.of(uid)) {
            out.add(info(s));
        }
        return out;
    }

    /** Sends go_away to every connection of {@code uid} here (an operator's kick); the number told. */
    public int kickUser(long uid, int reconnectAfterMillis) {
        return kickUser(uid, reconnectAfterMillis, "kicked by an operator");
    }

    /** Sends go_away with {@code reason} to every connection of {@code uid} here; the number told. */
    public int kickUser(long uid, int reconnectAfterMillis, String reason) {
        ClientSession[] sessions = userSessions.of(uid);
        for (ClientSession s : sessions) {
            s.channel.eventLoop().execute(() -> s.channel.pipeline().fireUserEventTriggered(Drain.kicked(reconnectAfterMillis, reason)));
        }
        return sessions.length;
    }

    /** Users with a connection here. */
    public int connectedUsers() {
        return userSessions.userCount();
    }

    int loopIndex(EventLoop loop) {
        Integer index = loopIndex.get(loop);
        if (index == null) {
            throw new IllegalStateException("not one of the gateway's event loops: " + loop);
        }
        return index;
    }
}
