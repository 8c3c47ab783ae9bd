package io.cellgate.server.config;

import io.cellgate.limit.Priority;
import io.cellgate.route.CellSet;
import io.cellgate.route.Locality;
import io.cellgate.route.ReadPreference;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteClass;
import io.cellgate.route.RouteException;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.cellgate.route.SlotHash;
import io.cellgate.route.WriteFailover;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The gateway's configuration: typed, validated once, immutable. {@code conf/gateway.yaml} documents
 * every key in place. Any error names the key, the value and what was expected.
 *
 * @param city                 the gateway's own city (reads prefer it)
 * @param idc                  the gateway's own IDC
 * @param listenHost           client listener address
 * @param listenPort           client listener port; 0 picks a free one
 * @param transport            {@code AUTO} uses native epoll when available
 * @param eventLoopThreads     event loops; 0 means one per core
 * @param maxFrameBytes        largest client frame accepted
 * @param maxInFlight          requests in flight per connection
 * @param tokenSecret          HMAC key of login tokens
 * @param loginTimeout         time allowed between connect and a successful login
 * @param heartbeatInterval    the client pings this often; silence for 3 intervals closes
 * @param routes               the initial route table (epoch 1)
 * @param commands             the command table
 * @param channelMode          how gRPC channels to AO endpoints map to event loops
 * @param alternates           other gateways' addresses, sent in go_away
 * @param routeStoreDir        directory of the embedded route store; null keeps routes in memory only
 * @param admission            admission control: rates, overload signals, shedding
 * @param metricsHost          address of the metrics and health HTTP listener
 * @param metricsPort          its port; 0 picks a free one, -1 turns it off
 * @param drainWindow          go_away reconnect delays are spread over this window
 * @param drainTimeout         a drain closes what is left after this long
 * @param adminHost            address of the admin gRPC API
 * @param adminPort            its port; 0 picks a free one, -1 turns it off
 * @param adminToken           the bearer token the admin API requires (null when it is off)
 * @param accessLogFile        where the access log goes; null turns it off
 * @param accessLogSample      fraction of undyed requests logged
 * @param accessLogRing        entries in the access log's ring
 * @param outlier              passive health of AO endpoints
 * @param retryRatio           retries allowed per request (the retry budget)
 * @param retryMax             retry tokens saved up at most, at any request rate
 * @param retryWindow          the retry tokens saved may reach retryRatio of this window's requests when that is more
 * @param health               active health checks and set-level failover
 * @param endpointsFile        the watched discovery file; null when discovery is off
 * @param endpointsPoll        how often it is checked
 * @param fleet                the etcd fleet this gateway belongs to; null when it runs alone
 * @param maxOutboundBytes     answers queued to one client that does not read them, before it is closed
 * @param tlsCertFile          PEM certificate chain of the client listener's TLS; null when TLS is off
 * @param tlsKeyFile           its PEM (PKCS#8) private key; null when TLS is off
 * @param upstreamCaFile       PEM CA bundle the AOs' certificates are verified against; null: plaintext to AOs
 * @param maxInFlightBytes     request body bytes one connection may have in flight (calls not yet answered)
 * @param minTimeout           the shortest deadline a client's {@code timeout_ms} may ask for (shorter ones are raised to it)
 * @param setLimit             each set's adaptive limit on calls in flight; null when it is off
 * @param edge                 what a client may do before it logs in, and how long a closing connection may linger
 * @param dyeRules             who is dyed, whose own dyes count, and where dyed traffic goes; tried in order
 * @param tokenKeys            the v2 login token keys and the longest a token may live
 * @param adminAccess          the admin API's read-only token and TLS
 * @param upstreamCertFile     PEM client certificate presented to the AOs (mutual TLS); null: none
 * @param upstreamKeyFile      its PEM (PKCS#8) key
 * @param metricsCertFile      PEM certificate chain of the metrics listener's TLS (HTTPS); null: plain HTTP
 * @param metricsKeyFile       its PEM (PKCS#8) key
 * @param sessions             what a login does to the user's other connections
 * @param push                 the push API for services and the bounds on pushes
 * @param webSocket            the WebSocket listener for web clients
 * @param logging              the log lines' format and level
 * @param keys                 every key the file set, with a digest of its value: what a reload compares
 */
public record GatewayConfig(String city, String idc, String listenHost, int listenPort, Transport transport,
                            int eventLoopThreads, int maxFrameBytes, int maxInFlight, byte[] tokenSecret,
                            Duration loginTimeout, Duration heartbeatInterval, RouteTable routes,
                            List<CommandSpec> commands, ChannelMode channelMode, List<String> alternates,
                            Path routeStoreDir, AdmissionConfig admission, String metricsHost, int metricsPort,
                            Duration drainWindow, Duration drainTimeout, String adminHost, int adminPort,
                            byte[] adminToken, Path accessLogFile, double accessLogSample, int accessLogRing,
                            OutlierPolicy outlier, double retryRatio, int retryMax, Duration retryWindow,
                            HealthPolicy health, Path endpointsFile, Duration endpointsPoll, FleetConfig fleet,
                            long maxOutboundBytes, Path tlsCertFile, Path tlsKeyFile, Path upstreamCaFile,
                            long maxInFlightBytes, Duration minTimeout,
                            io.cellgate.limit.SetConcurrencyLimit.Settings setLimit, EdgeLimits edge,
                            List<DyeRule> dyeRules, TokenKeys tokenKeys, AdminAccess adminAccess, Path upstreamCertFile,
                            Path upstreamKeyFile, Path metricsCertFile, Path metricsKeyFile, SessionPolicy sessions,
                            PushConfig push, WebSocketConfig webSocket, LoggingConfig logging, ConfigKeys keys) {

    /**
     * Login token keys beside the v1 {@link #tokenSecret} (which is null when only these are configured).
     *
     * @param keys        v2 keys by id, in configuration order: the first signs tokens tools mint, all verify
     * @param maxLifetime the longest a token may live ({@code expiry - issued}; v1: {@code expiry - now}); zero: no limit
     */
    public record TokenKeys(Map<String, byte[]> keys, Duration maxLifetime) {
    }

    /**
     * Bounds at the edge.
     *
     * @param closeTimeout       after a go_away that ends a connection, the longest the gateway waits for the
     *                           peer to take it before closing anyway (a peer that never reads keeps nothing)
     * @param preLoginFrames     frames other than the login a connection may send before logging in
     * @param preLoginFrameBytes the largest frame accepted before login
     */
    public record EdgeLimits(Duration closeTimeout, int preLoginFrames, int preLoginFrameBytes) {
    }

    /** Which Netty transport to use. */
    public enum Transport { AUTO, EPOLL, NIO }

    /** How gRPC channels to AO endpoints map to the gateway's event loops. */
    public enum ChannelMode {
        /** One gRPC channel per endpoint per event loop: a call never leaves the client's event loop. */
        PER_EVENT_LOOP,
        /** One channel per endpoint, on one of the event loops; calls and responses hop between loops. */
        SHARED,
        /**
         * The default: as {@link #PER_EVENT_LOOP}, with the gateway's own lean gRPC client on Netty's
         * HTTP/2 codec carrying the calls (one gRPC channel per endpoint stays, for health checks).
         */
        LEAN
    }

    private static final Pattern METHOD = Pattern.compile("[A-Za-z_][\\w.]*\\.[A-Za-z_]\\w*/[A-Za-z_]\\w*|[A-Za-z_]\\w*/[A-Za-z_]\\w*");
    private static final Pattern HOST_PORT = Pattern.compile("[^\\s:]+:\\d{1,5}|\\[[0-9a-fA-F:]+]:\\d{1,5}");

    public static GatewayConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("config file: " + file + " (expected: a readable file): " + e, e);
        }
        return parse(text, file.toAbsolutePath().getParent(), System::getenv);
    }

    /**
     * Parses and validates {@code yaml}. Relative file names in it resolve against {@code baseDir};
     * {@code env} supplies environment variables.
     */
    public static GatewayConfig parse(String yaml, Path baseDir, Function<String, String> env) {
        Object parsed;
        try {
            parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(expand(yaml, env));
        } catch (YAMLException e) {
            throw new ConfigException("config: not valid YAML: " + e.getMessage(), e);
        }
        ConfigNode root = ConfigNode.root(parsed);
        root.allowOnly(Set.of("gateway", "listen", "login", "limits", "routes", "topology", "commands", "upstream", "admission",
                "drain", "admin", "access-log", "discovery", "fleet", "dye", "sessions", "push", "logging"));
        ConfigNode discovery = root.node("discovery");
        discovery.allowOnly(Set.of("endpoints-file", "poll"));
        String endpointsName = discovery.string("endpoints-file", "off");
        Path endpointsFile = endpointsName.equals("off") ? null
                : (baseDir == null ? Path.of(endpointsName) : baseDir.resolve(endpointsName)).normalize();
        Duration endpointsPoll = discovery.duration("poll", Duration.ofSeconds(1), Duration.ofMillis(10), Duration.ofHours(1));
        ConfigNode accessLog = root.node("access-log");
        accessLog.allowOnly(Set.of("file", "sample", "ring-size"));
        String accessLogName = accessLog.string("file", "off");
        Path accessLogFile = accessLogName.equals("off") ? null
                : (baseDir == null ? Path.of(accessLogName) : baseDir.resolve(accessLogName)).normalize();
        double accessLogSample = accessLog.doubleValue("sample", 1.0, 0, 1);
        int accessLogRing = accessLog.intValue("ring-size", 65536, 8, 1 << 24);
        if (Integer.bitCount(accessLogRing) != 1) {
            throw ConfigException.invalid(accessLog.key("ring-size"), accessLogRing, "a power of two");
        }
        ConfigNode admin = root.node("admin");
        admin.allowOnly(Set.of("listen", "token", "token-file", "token-env", "read-token", "read-token-file", "read-token-env", "tls"));
        Listener adminListen = listener(admin, "listen", "off");
        String adminHost = adminListen == null ? "127.0.0.1" : adminListen.host();
        int adminPort = adminListen == null ? -1 : adminListen.port();
        byte[] adminToken = adminListen == null ? null : secret(admin, "token", baseDir, env);
        AdminAccess adminAccess = adminListen == null ? AdminAccess.TOKEN_ONLY : adminAccess(admin, adminToken, baseDir, env);
        ConfigNode drain = root.node("drain");
        drain.allowOnly(Set.of("reconnect-window", "timeout"));
        Duration drainWindow = drain.duration("reconnect-window", Duration.ofSeconds(10), Duration.ZERO, Duration.ofHours(1));
        Duration drainTimeout = drain.duration("timeout", Duration.ofSeconds(30), Duration.ofMillis(100), Duration.ofHours(1));

        ConfigNode gateway = root.node("gateway");
        gateway.allowOnly(Set.of("city", "idc", "transport", "event-loop-threads", "alternates", "read-preference"));
        String city = gateway.requiredString("city");
        String idc = gateway.requiredString("idc");
        Transport transport = gateway.enumValue("transport", Transport.class, Transport.AUTO);
        int threads = gateway.intValue("event-loop-threads", 0, 0, 1024);
        List<String> alternates = gateway.strings("alternates");
        for (String a : alternates) {
            requireHostPort(gateway.key("alternates"), a);
        }

        ConfigNode listen = root.node("listen");
        listen.allowOnly(Set.of("client", "metrics", "tls", "metrics-tls", "websocket", "websocket-path", "websocket-origins",
                "websocket-tls"));
        WebSocketConfig webSocket = webSocket(listen, baseDir);
        ConfigNode tls = listen.node("tls");
        tls.allowOnly(Set.of("cert-file", "key-file"));
        Path[] clientPem = certAndKey(tls, baseDir);
        Path tlsCert = clientPem == null ? null : clientPem[0];
        Path tlsKey = clientPem == null ? null : clientPem[1];
        ConfigNode metricsTls = listen.node("metrics-tls");
        metricsTls.allowOnly(Set.of("cert-file", "key-file"));
        Path[] metricsPem = certAndKey(metricsTls, baseDir);
        Path metricsCert = metricsPem == null ? null : metricsPem[0];
        Path metricsKey = metricsPem == null ? null : metricsPem[1];
        Listener metrics = listener(listen, "metrics", "off");
        String metricsHost = metrics == null ? "127.0.0.1" : metrics.host();
        int metricsPort = metrics == null ? -1 : metrics.port();
        Listener client = listener(listen, "client", "0.0.0.0:9000");
        String host = client.host();
        int port = client.port();

        ConfigNode login = root.node("login");
        login.allowOnly(Set.of("token-secret", "token-secret-file", "token-secret-env", "timeout", "heartbeat-interval", "token-keys",
                "max-token-lifetime"));
        Map<String, byte[]> tokenKeys = new LinkedHashMap<>();
        for (ConfigNode k : login.nodes("token-keys")) {
            k.allowOnly(Set.of("id", "secret", "secret-file", "secret-env"));
            String id = k.requiredString("id");
            if (!TOKEN_KEY_ID.matcher(id).matches()) {
                throw ConfigException.invalid(k.key("id"), id, "1-16 of [A-Za-z0-9_-]");
            }
            if (tokenKeys.put(id, secret(k, "secret", baseDir, env)) != null) {
                throw ConfigException.invalid(k.key("id"), id, "a key id no other key has");
            }
        }
        boolean v1Given = login.has("token-secret") || login.has("token-secret-file") || login.has("token-secret-env");
        // Without v2 keys the v1 secret is required (and secret() says how to give it).
        byte[] secret = v1Given || tokenKeys.isEmpty() ? secret(login, "token-secret", baseDir, env) : null;
        Duration maxTokenLifetime = login.duration("max-token-lifetime", Duration.ZERO, Duration.ZERO, Duration.ofDays(3650));
        Duration loginTimeout = login.duration("timeout", Duration.ofSeconds(8), Duration.ofMillis(10), Duration.ofMinutes(10));
        Duration heartbeat = login.duration("heartbeat-interval", Duration.ofSeconds(30), Duration.ofMillis(10), Duration.ofHours(1));

        ConfigNode limits = root.node("limits");
        limits.allowOnly(Set.of("max-frame-bytes", "max-in-flight-per-connection", "max-outbound-bytes-per-connection",
                "max-in-flight-bytes-per-connection", "min-timeout", "close-timeout", "pre-login-frames", "pre-login-frame-bytes"));
        Duration minTimeout = limits.duration("min-timeout", Duration.ofMillis(20), Duration.ofMillis(1), Duration.ofMinutes(1));
        int maxFrame = limits.intValue("max-frame-bytes", 1 << 20, 64, 64 << 20);
        int maxInFlight = limits.intValue("max-in-flight-per-connection", 1024, 1, 1 << 20);
        long maxOutbound = limits.longValue("max-outbound-bytes-per-connection", 4L << 20, 256L << 10, 1L << 32);
        long maxInFlightBytes = limits.longValue("max-in-flight-bytes-per-connection", 16L << 20, maxFrame, 1L << 40);
        EdgeLimits edge = new EdgeLimits(limits.duration("close-timeout", Duration.ofSeconds(2), Duration.ofMillis(10), Duration.ofMinutes(1)),
                limits.intValue("pre-login-frames", 8, 0, 10_000),
                limits.intValue("pre-login-frame-bytes", Math.min(8192, maxFrame), 64, maxFrame));

        Locality locality = new Locality(city, idc, gateway.enumValue("read-preference", ReadPreference.class, ReadPreference.NEAREST));
        RouteTable routes = routes(root, locality);
        String storeDir = root.node("routes").string("store-dir", null);
        Path routeStoreDir = storeDir == null ? null : (baseDir == null ? Path.of(storeDir) : baseDir.resolve(storeDir)).normalize();
        List<CommandSpec> commands = commands(root, routes);

        ConfigNode upstream = root.node("upstream");
        upstream.allowOnly(Set.of("channel-mode", "outlier", "retry-budget", "health", "tls", "set-limit"));
        ConfigNode upstreamTls = upstream.node("tls");
        upstreamTls.allowOnly(Set.of("ca-file", "cert-file", "key-file"));
        Path upstreamCa = upstreamTls.has("ca-file") ? resolve(baseDir, upstreamTls.requiredString("ca-file")) : null;
        if (upstreamCa != null && !Files.isReadable(upstreamCa)) {
            throw ConfigException.invalid(upstreamTls.key("ca-file"), upstreamCa, "a readable PEM CA bundle");
        }
        Path[] upstreamPem = certAndKey(upstreamTls, baseDir);
        if (upstreamPem != null && upstreamCa == null) {
            throw ConfigException.invalid(upstreamTls.key("ca-file"), "missing", "the CA bundle of the AOs, with a client certificate");
        }
        Path upstreamCert = upstreamPem == null ? null : upstreamPem[0];
        Path upstreamKey = upstreamPem == null ? null : upstreamPem[1];
        ConfigNode healthNode = upstream.node("health");
        healthNode.allowOnly(Set.of("enabled", "interval", "timeout", "set-down-fraction", "recovery", "max-down-share", "slow-start"));
        HealthPolicy health = new HealthPolicy(healthNode.bool("enabled", true),
                healthNode.duration("interval", Duration.ofMillis(500), Duration.ofMillis(10), Duration.ofMinutes(10)),
                healthNode.duration("timeout", Duration.ofSeconds(1), Duration.ofMillis(1), Duration.ofMinutes(1)),
                healthNode.doubleValue("set-down-fraction", 0.6, 0.01, 1),
                healthNode.duration("recovery", Duration.ofSeconds(5), Duration.ZERO, Duration.ofHours(1)),
                healthNode.doubleValue("max-down-share", 0.5, 0, 1),
                healthNode.duration("slow-start", Duration.ofSeconds(10), Duration.ZERO, Duration.ofMinutes(10)));
        ConfigNode retry = upstream.node("retry-budget");
        retry.allowOnly(Set.of("ratio", "max", "window"));
        double retryRatio = retry.doubleValue("ratio", 0.1, 0, 1);
        int retryMax = retry.intValue("max", 100, 0, 1_000_000);
        Duration retryWindow = retry.duration("window", Duration.ofSeconds(10), Duration.ZERO, Duration.ofMinutes(10));
        ConfigNode outlierNode = upstream.node("outlier");
        outlierNode.allowOnly(Set.of("max-ejection-percent", "consecutive-failures", "base-ejection", "max-ejection", "panic-threshold", "failure-codes",
                "min-success-rate", "min-requests"));
        Set<String> failureCodes = new java.util.TreeSet<>(OutlierPolicy.DEFAULT_FAILURE_CODES);
        if (outlierNode.has("failure-codes")) {
            failureCodes.clear();
            for (String code : outlierNode.strings("failure-codes")) {
                try {
                    failureCodes.add(io.grpc.Status.Code.valueOf(code.trim().toUpperCase(java.util.Locale.ROOT)).name());
                } catch (IllegalArgumentException e) {
                    throw ConfigException.invalid(outlierNode.key("failure-codes"), code, "gRPC status code names such as UNAVAILABLE, INTERNAL");
                }
            }
        }
        OutlierPolicy outlier = new OutlierPolicy(outlierNode.intValue("consecutive-failures", 5, 1, 1_000_000),
                outlierNode.duration("base-ejection", Duration.ofSeconds(10), Duration.ofMillis(10), Duration.ofHours(1)),
                outlierNode.duration("max-ejection", Duration.ofMinutes(5), Duration.ofMillis(10), Duration.ofHours(24)),
                outlierNode.doubleValue("panic-threshold", 0.5, 0, 1), Set.copyOf(failureCodes),
                outlierNode.doubleValue("min-success-rate", 0.5, 0, 1), outlierNode.intValue("min-requests", 20, 1, 1_000_000),
                outlierNode.intValue("max-ejection-percent", 100, 0, 100));
        ChannelMode mode = upstream.enumValue("channel-mode", ChannelMode.class, ChannelMode.LEAN);
        io.cellgate.limit.SetConcurrencyLimit.Settings setLimit = setLimit(upstream.node("set-limit"));

        SessionPolicy sessions = sessions(root.node("sessions"));
        PushConfig push = push(root.node("push"), baseDir, env);
        requirePushForDirectory(sessions, push);
        return new GatewayConfig(city, idc, host, port, transport, threads, maxFrame, maxInFlight, secret,
                loginTimeout, heartbeat, routes, List.copyOf(commands), mode, List.copyOf(alternates), routeStoreDir,
                AdmissionConfig.parse(root.node("admission")), metricsHost, metricsPort,
                drainWindow, drainTimeout, adminHost, adminPort, adminToken, accessLogFile, accessLogSample, accessLogRing,
                outlier, retryRatio, retryMax, retryWindow, health, endpointsFile, endpointsPoll,
                fleet(root, routeStoreDir, endpointsFile, baseDir, env), maxOutbound, tlsCert, tlsKey, upstreamCa, maxInFlightBytes, minTimeout, setLimit,
                edge, dyeRules(root.node("dye"), routes), new TokenKeys(java.util.Collections.unmodifiableMap(tokenKeys),
                maxTokenLifetime), adminAccess, upstreamCert, upstreamKey, metricsCert, metricsKey, sessions,
                push, webSocket, logging(root.node("logging")), ConfigKeys.of((Map<?, ?>) parsed));
    }

    /** The {@code logging} section. */
    private static LoggingConfig logging(ConfigNode node) {
        node.allowOnly(Set.of("format", "level"));
        String format = node.string("format", "text");
        if (!format.equals("text") && !format.equals("json")) {
            throw ConfigException.invalid(node.key("format"), format, "text or json");
        }
        String levelName = node.string("level", "info");
        java.util.logging.Level level = LoggingConfig.level(levelName);
        if (level == null) {
            throw ConfigException.invalid(node.key("level"), levelName, "error, warn, info, debug or trace");
        }
        return new LoggingConfig(format.equals("json"), level);
    }

    /** A session directory forwards pushes between gateways' push APIs: it needs one. */
    private static void requirePushForDirectory(SessionPolicy sessions, PushConfig push) {
        if (sessions.directory() != null && !push.enabled()) {
            throw ConfigException.invalid("sessions.directory", "set while push.listen is off",
                    "push.listen and a push token: gateways forward pushes to each other's push API");
        }
        if (sessions.directory() != null && push.tls()) {
            throw ConfigException.invalid("sessions.directory", "set with push.tls",
                    "push.tls off: gateways forward pushes to each other's push API in plaintext (keep it on a private network)");
        }
    }

    private static final Pattern WEBSOCKET_PATH = Pattern.compile("/[A-Za-z0-9._~/-]{0,127}");

    /** The {@code listen.websocket*} keys. */
    private static WebSocketConfig webSocket(ConfigNode listen, Path baseDir) {
        WebSocketConfig d = WebSocketConfig.OFF;
        Listener ws = listener(listen, "websocket", "off");
        String path = listen.string("websocket-path", d.path());
        if (!WEBSOCKET_PATH.matcher(path).matches()) {
            throw ConfigException.invalid(listen.key("websocket-path"), path, "a path such as /cellgate (letters, digits, ._~-/)");
        }
        List<String> origins = listen.strings("websocket-origins");
        for (String o : origins) {
            if (!o.equals("*") && !o.matches("https?://[^/\\s]+")) {
                throw ConfigException.invalid(listen.key("websocket-origins"), o,
                        "origins such as https://app.example.com (scheme and host, no path), or *");
            }
        }
        ConfigNode tls = listen.node("websocket-tls");
        tls.allowOnly(Set.of("cert-file", "key-file"));
        Path[] pem = certAndKey(tls, baseDir);
        return new WebSocketConfig(ws == null ? d.host() : ws.host(), ws == null ? -1 : ws.port(), path, List.copyOf(origins),
                pem == null ? null : pem[0], pem == null ? null : pem[1]);
    }

    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    /**
     * {@code yaml} with each {@code ${NAME}} replaced by the environment variable NAME, and each
     * {@code ${NAME:-default}} by NAME when it is set and not empty, else by the default (e.g.
     * {@code metrics: ${CELLGATE_METRICS_LISTEN:-127.0.0.1:9410}}, {@code store-dir:
     * ${STATE_DIRECTORY:-../data}/routes}): containers and systemd units set listeners and directories
     * without another file. A {@code ${NAME}} that is not set is a configuration error naming it.
     */
    static String expand(String yaml, Function<String, String> env) {
        if (!yaml.contains("${")) {
            return yaml;
        }
        StringBuilder all = new StringBuilder(yaml.length());
        for (String line : yaml.split("\n", -1)) {
            // Comment lines are left alone: they may show the syntax.
            all.append(line.stripLeading().startsWith("#") ? line : expandLine(line, env)).append('\n');
        }
        all.setLength(all.length() - 1);
        return all.toString();
    }

    private static String expandLine(String yaml, Function<String, String> env) {
        Matcher m = ENV_REFERENCE.matcher(yaml);
        StringBuilder out = new StringBuilder(yaml.length());
        while (m.find()) {
            String value = env.apply(m.group(1));
            if (value == null || value.isEmpty()) {
                if (m.group(2) == null) {
                    throw new ConfigException("config: ${" + m.group(1) + "} (expected: the environment variable " + m.group(1)
                            + " set, or a default as ${" + m.group(1) + ":-value})");
                }
                value = m.group(2);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The {@code sessions} section. */
    private static SessionPolicy sessions(ConfigNode node) {
        node.allowOnly(Set.of("max-per-user", "when-full", "directory"));
        SessionPolicy.Directory directory = null;
        ConfigNode d = node.node("directory");
        d.allowOnly(Set.of("redis", "prefix", "ttl", "advertise"));
        if (d.has("redis")) {
            String uri = d.requiredString("redis");
            if (!uri.matches("rediss?://\\S+")) {
                throw ConfigException.invalid(d.key("redis"), uri, "a Redis URI such as redis://10.0.0.9:6379");
            }
            String advertise = d.has("advertise") ? d.requiredString("advertise") : null;
            if (advertise != null) {
                requireHostPort(d.key("advertise"), advertise);
            }
            directory = new SessionPolicy.Directory(uri, d.string("prefix", "cellgate"),
                    d.duration("ttl", java.time.Duration.ofSeconds(3), java.time.Duration.ofMillis(300), java.time.Duration.ofMinutes(5)),
                    advertise);
        }
        return new SessionPolicy(node.intValue("max-per-user", SessionPolicy.DEFAULT.maxPerUser(), 0, 1_000_000),
                node.enumValue("when-full", SessionPolicy.WhenFull.class, SessionPolicy.DEFAULT.whenFull()), directory);
    }

    /** The {@code push} section. */
    private static PushConfig push(ConfigNode node, Path baseDir, Function<String, String> env) {
        node.allowOnly(Set.of("listen", "token", "token-file", "token-env", "tls", "rate-per-connection", "topic-rate", "max-topics",
                "max-topic-members", "ack-timeout"));
        PushConfig d = PushConfig.OFF;
        Listener listen = listener(node, "listen", "off");
        byte[] token = listen == null ? null : secret(node, "token", baseDir, env);
        ConfigNode tls = node.node("tls");
        tls.allowOnly(Set.of("cert-file", "key-file", "client-ca-file"));
        Path[] pem = certAndKey(tls, baseDir);
        Path clientCa = null;
        if (tls.has("client-ca-file")) {
            if (pem == null) {
                throw ConfigException.invalid(tls.key("client-ca-file"), "given without cert-file and key-file",
                        "push.tls.cert-file and key-file as well");
            }
            clientCa = resolve(baseDir, tls.requiredString("client-ca-file"));
            if (!Files.isReadable(clientCa)) {
                throw ConfigException.invalid(tls.key("client-ca-file"), clientCa, "a readable PEM file");
            }
        }
        return new PushConfig(listen == null ? d.host() : listen.host(), listen == null ? -1 : listen.port(), token,
                pem == null ? null : pem[0], pem == null ? null : pem[1], clientCa,
                node.doubleValue("rate-per-connection", d.ratePerConnection(), 0, 1_000_000),
                node.doubleValue("topic-rate", d.topicRate(), 0, 10_000_000),
                node.intValue("max-topics", d.maxTopics(), 1, 10_000_000),
                node.intValue("max-topic-members", d.maxTopicMembers(), 1, 100_000_000),
                node.duration("ack-timeout", d.ackTimeout(), Duration.ofMillis(10), Duration.ofMinutes(5)));
    }

    /** The admin API's read-only token and TLS ({@code admin.read-token*}, {@code admin.tls}). */
    private static AdminAccess adminAccess(ConfigNode admin, byte[] adminToken, Path baseDir, Function<String, String> env) {
        byte[] readToken = null;
        if (admin.has("read-token") || admin.has("read-token-file") || admin.has("read-token-env")) {
            readToken = secret(admin, "read-token", baseDir, env);
            if (java.util.Arrays.equals(readToken, adminToken)) {
                throw ConfigException.invalid(admin.key("read-token"), "the admin token", "a token of its own");
            }
        }
        ConfigNode tls = admin.node("tls");
        tls.allowOnly(Set.of("cert-file", "key-file", "client-ca-file"));
        if (!tls.has("cert-file") && !tls.has("key-file") && !tls.has("client-ca-file")) {
            return new AdminAccess(readToken, null, null, null);
        }
        Path cert = resolve(baseDir, tls.requiredString("cert-file"));
        Path key = resolve(baseDir, tls.requiredString("key-file"));
        Path clientCa = tls.has("client-ca-file") ? resolve(baseDir, tls.requiredString("client-ca-file")) : null;
        for (Path f : java.util.Arrays.asList(cert, key, clientCa)) {
            if (f != null && !Files.isReadable(f)) {
                throw ConfigException.invalid(tls.key(f == cert ? "cert-file" : f == key ? "key-file" : "client-ca-file"), f,
                        "a readable PEM file");
            }
        }
        return new AdminAccess(readToken, cert, key, clientCa);
    }

    private static final Pattern TOKEN_KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,16}");

    /** The {@code dye} section: its {@code rules}, in order. */
    private static List<DyeRule> dyeRules(ConfigNode node, RouteTable routes) {
        node.allowOnly(Set.of("rules"));
        List<DyeRule> rules = new ArrayList<>();
        for (ConfigNode r : node.nodes("rules")) {
            r.allowOnly(Set.of("tag", "uids", "uid-range", "devices", "app-versions", "client-dye", "read-set", "write-set"));
            String tag = r.string("tag", null);
            if (tag != null && !DyeRule.TAG.matcher(tag).matches()) {
                throw ConfigException.invalid(r.key("tag"), tag, "1-64 of [A-Za-z0-9._:-]");
            }
            boolean clientDye = r.bool("client-dye", false);
            if (tag == null && !clientDye) {
                throw ConfigException.invalid(r.key("tag"), "missing", "a tag, or client-dye: true (a rule must dye or allow dyes)");
            }
            Set<Long> uids = new HashSet<>();
            for (String uid : r.strings("uids")) {
                try {
                    uids.add(Long.parseUnsignedLong(uid.trim()));
                } catch (NumberFormatException e) {
                    throw ConfigException.invalid(r.key("uids"), uid, "unsigned 64-bit uids");
                }
            }
            long from = -1;
            long to = 0;
            String range = r.string("uid-range", null);
            if (range != null) {
                String[] ends = range.split("-", -1);
                try {
                    if (ends.length != 2) {
                        throw new NumberFormatException(range);
                    }
                    from = Long.parseUnsignedLong(ends[0].trim());
                    to = Long.parseUnsignedLong(ends[1].trim());
                } catch (NumberFormatException e) {
                    throw ConfigException.invalid(r.key("uid-range"), range, "FIRST-LAST, two unsigned uids");
                }
                if (Long.compareUnsigned(from, to) > 0) {
                    throw ConfigException.invalid(r.key("uid-range"), range, "FIRST-LAST with FIRST <= LAST");
                }
            }
            String readSet = dyeSet(r, "read-set", routes);
            String writeSet = dyeSet(r, "write-set", routes);
            rules.add(new DyeRule(tag, uids, from, to, Set.copyOf(r.strings("devices")), Set.copyOf(r.strings("app-versions")),
                    clientDye, readSet, writeSet));
        }
        return List.copyOf(rules);
    }

    private static String dyeSet(ConfigNode rule, String key, RouteTable routes) {
        String set = rule.string(key, null);
        if (set != null && routes.indexOf(set) < 0) {
            throw ConfigException.invalid(rule.key(key), set, "one of the topology's sets " + routes.sets().stream()
                    .map(CellSet::name).toList());
        }
        return set;
    }

    /** The {@code upstream.set-limit} section (on unless {@code enabled: false}): null when it is off. */
    private static io.cellgate.limit.SetConcurrencyLimit.Settings setLimit(ConfigNode node) {
        node.allowOnly(Set.of("enabled", "initial", "min", "max", "tolerance", "window", "connection-share"));
        if (!node.bool("enabled", true)) {
            return null;
        }
        int min = node.intValue("min", 8, 1, 1_000_000);
        int max = node.intValue("max", 2000, min, 1_000_000);
        int initial = node.intValue("initial", max, min, max);
        return new io.cellgate.limit.SetConcurrencyLimit.Settings(initial, min, max, node.doubleValue("tolerance", 2.0, 1.0, 100.0),
                node.duration("window", Duration.ofMillis(100), Duration.ofMillis(1), Duration.ofMinutes(1)).toNanos(),
                node.doubleValue("connection-share", io.cellgate.limit.SetConcurrencyLimit.Settings.CONNECTION_SHARE, 0.0, 1.0));
    }

    /** {@code cert-file} and {@code key-file} of {@code tls}, both readable PEM files; null when neither is given. */
    private static Path[] certAndKey(ConfigNode tls, Path baseDir) {
        if (!tls.has("cert-file") && !tls.has("key-file")) {
            return null;
        }
        Path cert = resolve(baseDir, tls.requiredString("cert-file"));
        Path key = resolve(baseDir, tls.requiredString("key-file"));
        for (Path f : List.of(cert, key)) {
            if (!Files.isReadable(f)) {
                throw ConfigException.invalid(tls.key(f == cert ? "cert-file" : "key-file"), f, "a readable PEM file");
            }
        }
        return new Path[] {cert, key};
    }

    private static Path resolve(Path baseDir, String name) {
        return (baseDir == null ? Path.of(name) : baseDir.resolve(name)).normalize();
    }

    /** The {@code fleet} section: null for {@code store: file}, the etcd settings for {@code store: etcd}. */
    private static FleetConfig fleet(ConfigNode root, Path routeStoreDir, Path endpointsFile, Path baseDir, Function<String, String> env) {
        ConfigNode fleet = root.node("fleet");
        fleet.allowOnly(Set.of("store", "etcd"));
        String store = fleet.string("store", "file");
        if (store.equals("file")) {
            return null;
        }
        if (!store.equals("etcd")) {
            throw ConfigException.invalid(fleet.key("store"), store, "file or etcd");
        }
        if (routeStoreDir == null) {
            throw ConfigException.invalid(root.node("routes").key("store-dir"), "missing",
                    "a directory for the local copy of the fleet's routes when fleet.store is etcd");
        }
        if (endpointsFile != null) {
            throw ConfigException.invalid(root.node("discovery").key("endpoints-file"), endpointsFile,
                    "off when fleet.store is etcd: AO endpoints come from the etcd registry");
        }
        ConfigNode etcd = fleet.node("etcd");
        etcd.allowOnly(Set.of("endpoints", "prefix", "advertise", "lease-ttl", "timeout", "probe-interval", "tls", "user",
                "password", "password-file", "password-env"));
        List<String> endpoints = etcd.strings("endpoints");
        if (endpoints.isEmpty()) {
            endpoints = List.of("http://127.0.0.1:2379");
        }
        for (String e : endpoints) {
            if (!e.matches("https?://[^\\s/]+:\\d{1,5}/?")) {
                throw ConfigException.invalid(etcd.key("endpoints"), e, "etcd client URLs such as http://127.0.0.1:2379");
            }
        }
        String prefix = etcd.string("prefix", "/cellgate/default/");
        if (!prefix.matches("/[A-Za-z0-9._/-]*")) {
            throw ConfigException.invalid(etcd.key("prefix"), prefix, "a key prefix such as /cellgate/prod/");
        }
        String advertise = etcd.string("advertise", "auto");
        if (!advertise.equals("auto")) {
            requireHostPort(etcd.key("advertise"), advertise);
        }
        return new FleetConfig(List.copyOf(endpoints), prefix.endsWith("/") ? prefix : prefix + "/",
                advertise.equals("auto") ? null : advertise,
                etcd.duration("lease-ttl", Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofMinutes(10)),
                etcd.duration("timeout", Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofMinutes(1)),
                etcd.duration("probe-interval", Duration.ofSeconds(1), Duration.ofMillis(50), Duration.ofMinutes(1)),
                etcdSecurity(etcd, endpoints, baseDir, env));
    }

    /** {@code fleet.etcd.tls} and {@code user}/{@code password*}: how the gateway proves itself to etcd. */
    private static FleetConfig.Security etcdSecurity(ConfigNode etcd, List<String> endpoints, Path baseDir, Function<String, String> env) {
        ConfigNode tls = etcd.node("tls");
        tls.allowOnly(Set.of("ca-file", "cert-file", "key-file"));
        Path ca = tls.has("ca-file") ? resolve(baseDir, tls.requiredString("ca-file")) : null;
        Path cert = tls.has("cert-file") ? resolve(baseDir, tls.requiredString("cert-file")) : null;
        Path key = tls.has("key-file") ? resolve(baseDir, tls.requiredString("key-file")) : null;
        if ((cert == null) != (key == null)) {
            throw ConfigException.invalid(tls.key(cert == null ? "cert-file" : "key-file"), "missing", "cert-file and key-file together");
        }
        if (cert != null && ca == null) {
            throw ConfigException.invalid(tls.key("ca-file"), "missing", "the CA that signs etcd's certificate, with a client certificate");
        }
        for (Path f : java.util.Arrays.asList(ca, cert, key)) {
            if (f != null && !Files.isReadable(f)) {
                throw ConfigException.invalid(tls.key(f == ca ? "ca-file" : f == cert ? "cert-file" : "key-file"), f, "a readable PEM file");
            }
        }
        boolean https = endpoints.stream().allMatch(e -> e.startsWith("https://"));
        if (ca != null && !https) {
            throw ConfigException.invalid(etcd.key("endpoints"), endpoints, "https:// URLs when fleet.etcd.tls is set");
        }
        if (ca == null && endpoints.stream().anyMatch(e -> e.startsWith("https://"))) {
            throw ConfigException.invalid(tls.key("ca-file"), "missing", "the CA that signs etcd's certificate, for https:// endpoints");
        }
        String user = etcd.has("user") ? etcd.requiredString("user") : null;
        byte[] password = null;
        if (user != null) {
            password = secret(etcd, "password", baseDir, env);
        } else if (etcd.has("password") || etcd.has("password-file") || etcd.has("password-env")) {
            throw ConfigException.invalid(etcd.key("user"), "missing", "the etcd user the password belongs to");
        }
        return new FleetConfig.Security(ca, cert, key, user, password);
    }

    /** A secret file that its group or others can read is a leak waiting to happen: said once per load, not refused. */
    private static void warnIfOthersCanRead(String key, Path file) {
        try {
            Set<java.nio.file.attribute.PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.contains(java.nio.file.attribute.PosixFilePermission.GROUP_READ)
                    || p.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)) {
                java.util.logging.Logger.getLogger(GatewayConfig.class.getName()).warning(() -> key + ": " + file
                        + " can be read by its group or others (" + java.nio.file.attribute.PosixFilePermissions.toString(p)
                        + "); keep secrets to the gateway's user: chmod 600");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Not a POSIX file system, or gone since it was read: nothing to say.
        }
    }

    /**
     * A secret from exactly one of {@code <name>-file} (relative to the config's directory),
     * {@code <name>-env} or {@code <name>} (inline), at least 16 bytes. Errors never echo the secret.
     */
    private static byte[] secret(ConfigNode node, String name, Path baseDir, Function<String, String> env) {
        String fileKey = name + "-file";
        String envKey = name + "-env";
        int given = (node.has(name) ? 1 : 0) + (node.has(fileKey) ? 1 : 0) + (node.has(envKey) ? 1 : 0);
        if (given != 1) {
            throw ConfigException.invalid(node.key(name), given == 0 ? "missing" : "given " + given + " ways",
                    "exactly one of " + fileKey + ", " + envKey + ", " + name);
        }
        String secret;
        String key;
        if (node.has(fileKey)) {
            key = node.key(fileKey);
            Path file = baseDir == null ? Path.of(node.string(fileKey, "")) : baseDir.resolve(node.string(fileKey, ""));
            try {
                secret = Files.readString(file, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw ConfigException.invalid(key, file, "a readable file holding the secret (" + e.getClass().getSimpleName() + ")");
            }
            warnIfOthersCanRead(key, file);
        } else if (node.has(envKey)) {
            key = node.key(envKey);
            String variable = node.string(envKey, "");
            secret = env.apply(variable);
            if (secret == null) {
                throw ConfigException.invalid(key, variable, "the name of a set environment variable");
            }
        } else {
            key = node.key(name);
            secret = node.string(name, "");
        }
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        if (bytes.length < 16) {
            throw ConfigException.invalid(key, "a secret of " + bytes.length + " bytes", "at least 16 bytes");
        }
        return bytes;
    }

    private static RouteTable routes(ConfigNode root, Locality locality) {
        ConfigNode routes = root.node("routes");
        routes.allowOnly(Set.of("slots", "center-set", "write-points", "store-dir", "write-failover"));
        int slots = routes.intValue("slots", SlotHash.DEFAULT_SLOT_COUNT, 1, 1 << 24);
        RouteTable.Builder builder = RouteTable.builder(locality, slots);

        ConfigNode topology = root.node("topology");
        topology.allowOnly(Set.of("sets"));
        List<ConfigNode> sets = topology.nodes("sets");
        if (sets.isEmpty()) {
            throw ConfigException.invalid(topology.key("sets"), "none", "at least one set");
        }
        Set<String> names = new HashSet<>();
        for (ConfigNode s : sets) {
            s.allowOnly(Set.of("name", "city", "idc", "state", "weight", "endpoints", "services"));
            String name = s.requiredString("name");
            if (!names.add(name)) {
                throw ConfigException.invalid(s.key("name"), name, "a name no other set has");
            }
            List<String> endpoints = s.strings("endpoints");
            for (String e : endpoints) {
                requireHostPort(s.key("endpoints"), e);
            }
            ConfigNode services = s.node("services");
            Map<String, List<String>> serviceEndpoints = new LinkedHashMap<>();
            for (String service : services.keys()) {
                List<String> addresses = services.strings(service);
                for (String e : addresses) {
                    requireHostPort(services.key(service), e);
                }
                serviceEndpoints.put(service, addresses);
            }
            try {
                builder.addSet(new CellSet(name, s.requiredString("city"), s.requiredString("idc"),
                        s.enumValue("state", SetState.class, SetState.UP), s.intValue("weight", 1, 1, 1_000_000), endpoints,
                        serviceEndpoints));
            } catch (RouteException e) {
                throw new ConfigException(s.key("name") + " " + name + ": " + e.getMessage());
            }
        }
        String center = routes.string("center-set", null);
        if (center != null && !names.contains(center)) {
            throw ConfigException.invalid(routes.key("center-set"), center, "one of the sets " + names);
        }
        builder.centerSet(center);

        List<ConfigNode> writePoints = routes.nodes("write-points");
        for (ConfigNode wp : writePoints) {
            wp.allowOnly(Set.of("slots", "set"));
            String range = wp.requiredString("slots");
            String set = wp.requiredString("set");
            int dash = range.indexOf('-');
            try {
                int from = Integer.parseInt(dash < 0 ? range.trim() : range.substring(0, dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(range.substring(dash + 1).trim());
                if (!names.contains(set)) {
                    throw ConfigException.invalid(wp.key("set"), set, "one of the sets " + names);
                }
                builder.apply(new RouteChange.MoveSlots(from, to, set));
            } catch (NumberFormatException e) {
                throw ConfigException.invalid(wp.key("slots"), range, "a slot range such as 0-8191");
            } catch (RouteException e) {
                throw ConfigException.invalid(wp.key("slots"), range, "a range within 0-" + (slots - 1));
            }
        }
        try {
            return builder.build(1);
        } catch (RouteException e) {
            throw new ConfigException(routes.key("write-points") + ": " + e.getMessage());
        }
    }

    private static List<CommandSpec> commands(ConfigNode root, RouteTable routes) {
        List<CommandSpec> out = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        WriteFailover defaultFailover = root.node("routes").enumValue("write-failover", WriteFailover.class, WriteFailover.FAIL);
        for (ConfigNode c : root.nodes("commands")) {
            c.allowOnly(Set.of("cmd", "method", "route", "priority", "timeout", "rate", "burst", "write-failover", "group",
                    "idempotent", "fleet-rate"));
            int cmd = c.intValue("cmd", -1, 0, Integer.MAX_VALUE);
            if (cmd < 0) {
                throw ConfigException.invalid(c.key("cmd"), "missing", "a command word in 0.." + Integer.MAX_VALUE);
            }
            if (!seen.add(cmd)) {
                throw ConfigException.invalid(c.key("cmd"), cmd, "a command word no other command has");
            }
            String method = c.requiredString("method");
            if (!METHOD.matcher(method).matches()) {
                throw ConfigException.invalid(c.key("method"), method, "a full gRPC method name such as pkg.Service/Method");
            }
            RouteClass route = c.enumValue("route", RouteClass.class, null);
            if (route == null) {
                throw ConfigException.invalid(c.key("route"), "missing", "one of [WRITE, READ, CENTER]");
            }
            if (route == RouteClass.CENTER && routes.centerSetName() == null) {
                throw ConfigException.invalid(c.key("route"), "CENTER", "routes.center-set to be configured for CENTER commands");
            }
            Duration timeout = c.duration("timeout", Duration.ofSeconds(3), Duration.ofMillis(1), Duration.ofMinutes(10));
            double rate = c.doubleValue("rate", 0, 0, 1e9);
            int burst = c.intValue("burst", (int) Math.max(1, Math.min(1_000_000, Math.ceil(rate / 10))), 1, 100_000_000);
            out.add(new CommandSpec(cmd, method, route, c.enumValue("priority", Priority.class, Priority.P2), timeout,
                    rate, burst, c.enumValue("write-failover", WriteFailover.class, defaultFailover),
                    c.string("group", "default"), idempotent(c, route), c.doubleValue("fleet-rate", 0, 0, 1e9)));
        }
        if (out.isEmpty()) {
            throw ConfigException.invalid("commands", "none", "at least one command");
        }
        return out;
    }

    private static boolean idempotent(ConfigNode c, RouteClass route) {
        boolean idempotent = c.bool("idempotent", route == RouteClass.READ);
        if (idempotent && route == RouteClass.WRITE) {
            throw ConfigException.invalid(c.key("idempotent"), true, "false for WRITE commands: the gateway never retries a write");
        }
        return idempotent;
    }

    /** A listener address. */
    private record Listener(String host, int port) {
    }

    /** The {@code host:port} at {@code key}, or null when it is {@code off}. */
    private static Listener listener(ConfigNode node, String key, String fallback) {
        String value = node.string(key, fallback);
        if (value.equals("off")) {
            return null;
        }
        requireHostPort(node.key(key), value);
        int colon = value.lastIndexOf(':');
        int port = Integer.parseInt(value.substring(colon + 1));
        if (port > 65535) {
            throw ConfigException.invalid(node.key(key), value, "a port in 0..65535");
        }
        return new Listener(value.substring(0, colon).replace("[", "").replace("]", ""), port);
    }

    private static void requireHostPort(String key, String value) {
        if (value == null || !HOST_PORT.matcher(value).matches()) {
            throw ConfigException.invalid(key, value, "host:port");
        }
    }

    @Override
    public String toString() {
        // The secret is never printed.
        return "GatewayConfig{city=" + city + ", idc=" + idc + ", listen=" + listenHost + ':' + listenPort
                + ", transport=" + transport + ", routes=" + routes + ", commands=" + commands.size()
                + ", admin=" + (adminPort < 0 ? "off" : adminHost + ':' + adminPort) + '}';
    }
}
