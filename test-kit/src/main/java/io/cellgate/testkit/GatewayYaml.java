package io.cellgate.testkit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A typed builder of the gateway's YAML configuration for tests, starting from {@link TestTopology}:
 * tests say what they change (a key of a section, a set's state, TLS files) instead of editing YAML
 * text. Every key lands in its section by construction, so nothing can silently fail to apply; and
 * the gateway refuses unknown keys, so a misspelt one fails at start-up with its full name.
 */
public final class GatewayYaml {
    /** One set of the topology. */
    private static final class SetSpec {
        final String name;
        final String city;
        final String idc;
        final String endpoints;
        String state;
        final Map<String, String> services = new LinkedHashMap<>();

        SetSpec(String name, String city, String idc, String endpoints) {
            this.name = name;
            this.city = city;
            this.idc = idc;
            this.endpoints = endpoints;
        }
    }

    private final List<SetSpec> sets = new ArrayList<>();
    private String channelMode = "lean";
    private String loginTimeout = "8s";
    private String heartbeat = "30s";
    private String tokenSecretLine = "token-secret: " + TestTopology.SECRET;
    /** Further lines of the login section (token keys, max lifetime), each indented. */
    private final StringBuilder loginLines = new StringBuilder();
    private final Map<String, String> listen = new LinkedHashMap<>();
    private final Map<String, String> limits = new LinkedHashMap<>();
    private final Map<String, String> routes = new LinkedHashMap<>();
    private final Map<String, String> upstream = new LinkedHashMap<>();
    private final Map<String, String> outlier = new LinkedHashMap<>();
    private final Map<String, String> health = new LinkedHashMap<>();
    private final Map<String, String> admission = new LinkedHashMap<>();
    private final StringBuilder sections = new StringBuilder();
    private String listenTls;
    private String metricsTls;
    private String upstreamTls;

    private GatewayYaml() {
        listen.put("client", "127.0.0.1:0");
        limits.put("max-frame-bytes", "65536");
        limits.put("max-in-flight-per-connection", "2000");
        routes.put("slots", "16384");
        // Set-level failover is tested on its own (SetFailoverTest); elsewhere a set stays as configured.
        health.put("enabled", "false");
        // Loaded test machines stall for a moment now and then; only a real overload counts.
        admission.put("max-event-loop-lag", "1s");
        // Every test client comes from this host's loopback /24, which the per-source share would count as
        // one network: tests of that share set it themselves.
        admission.put("source-share", "1");
    }

    /**
     * The test topology: set {@code sz-a} (city sz) with the AO endpoints {@code szEndpoints}
     * (comma-separated {@code host:port}), holding the write points of slots 0-8191, and {@code sh-a}
     * (city sh) with {@code shEndpoints}, holding slots 8192-16383; the gateway in city sz.
     */
    public static GatewayYaml testTopology(String szEndpoints, String shEndpoints) {
        GatewayYaml y = new GatewayYaml();
        y.sets.add(new SetSpec("sz-a", "sz", "sz-1", szEndpoints));
        y.sets.add(new SetSpec("sh-a", "sh", "sh-1", shEndpoints));
        return y;
    }

    /** One more set, holding no write points (reads may use it): e.g. a second set of city sz. */
    public GatewayYaml addSet(String name, String city, String idc, String endpoints) {
        sets.add(new SetSpec(name, city, idc, endpoints));
        return this;
    }

    /** {@code upstream.channel-mode}: lean (the default), per-event-loop or shared. */
    public GatewayYaml channelMode(String mode) {
        this.channelMode = mode;
        return this;
    }

    public GatewayYaml loginTimeout(String duration) {
        this.loginTimeout = duration;
        return this;
    }

    public GatewayYaml heartbeat(String duration) {
        this.heartbeat = duration;
        return this;
    }

    /** {@code login.token-keys}: v2 keys as id, secret pairs, the signing key first. */
    public GatewayYaml tokenKeys(String... idSecretPairs) {
        loginLines.append("  token-keys:\n");
        for (int i = 0; i + 1 < idSecretPairs.length; i += 2) {
            loginLines.append("    - {id: ").append(idSecretPairs[i]).append(", secret: ").append(idSecretPairs[i + 1]).append("}\n");
        }
        return this;
    }

    /** {@code login.max-token-lifetime}. */
    public GatewayYaml maxTokenLifetime(String duration) {
        loginLines.append("  max-token-lifetime: ").append(duration).append('\n');
        return this;
    }

    /** {@code login.token-secret-file} instead of the inline secret (the file must hold {@link TestTopology#SECRET}). */
    public GatewayYaml tokenSecretFile(String file) {
        this.tokenSecretLine = "token-secret-file: " + file;
        return this;
    }

    /** {@code listen.metrics}: the operator's HTTP listener. */
    public GatewayYaml metrics(String hostPort) {
        listen.put("metrics", hostPort);
        return this;
    }

    /** Sets {@code listen.<key>} to {@code value} (written as given: quote it in YAML where needed). */
    public GatewayYaml listen(String key, String value) {
        listen.put(key, value);
        return this;
    }

    /** HTTPS on the metrics listener, with these PEM files (relative to the config's directory). */
    public GatewayYaml metricsTls(String certFile, String keyFile) {
        this.metricsTls = "    cert-file: " + certFile + "\n    key-file: " + keyFile + "\n";
        return this;
    }

    /** TLS on the client listener, with these PEM files (relative to the config's directory). */
    public GatewayYaml tls(String certFile, String keyFile) {
        this.listenTls = "    cert-file: " + certFile + "\n    key-file: " + keyFile + "\n";
        return this;
    }

    /** A key of {@code limits}, e.g. {@code limit("max-in-flight-per-connection", "8")}. */
    public GatewayYaml limit(String key, Object value) {
        limits.put(key, String.valueOf(value));
        return this;
    }

    /** A key of {@code admission}, e.g. {@code admission("accept-rate", 0.1)}. */
    public GatewayYaml admission(String key, Object value) {
        admission.put(key, String.valueOf(value));
        return this;
    }

    /** A key of {@code upstream.outlier}, e.g. {@code outlier("consecutive-failures", 3)}. */
    public GatewayYaml outlier(String key, Object value) {
        outlier.put(key, String.valueOf(value));
        return this;
    }

    /** A key of {@code upstream.health}; any key turns health checks on (they are off by default here). */
    public GatewayYaml health(String key, Object value) {
        health.remove("enabled");
        health.put(key, String.valueOf(value));
        return this;
    }

    /** {@code upstream.retry-budget}. */
    public GatewayYaml retryBudget(double ratio, int max) {
        upstream.put("retry-budget", "{ratio: " + ratio + ", max: " + max + "}");
        return this;
    }

    /** {@code upstream.set-limit} as a YAML flow map, e.g. {@code setLimit("{max: 40, connection-share: 0.25}")}. */
    public GatewayYaml setLimit(String flowMap) {
        upstream.put("set-limit", flowMap);
        return this;
    }

    /** TLS to the AOs, trusting the certificates of {@code caFile}. */
    public GatewayYaml upstreamCaFile(String caFile) {
        this.upstreamTls = "    ca-file: " + caFile + "\n";
        return this;
    }

    /** TLS to the AOs as {@link #upstreamCaFile}, presenting the client certificate {@code certFile} (mutual TLS). */
    public GatewayYaml upstreamMutualTls(String caFile, String certFile, String keyFile) {
        this.upstreamTls = "    ca-file: " + caFile + "\n    cert-file: " + certFile + "\n    key-file: " + keyFile + "\n";
        return this;
    }

    /** {@code routes.store-dir}: where the route store keeps its files. */
    public GatewayYaml storeDir(Path dir) {
        routes.put("store-dir", dir.toString());
        return this;
    }

    /** The configured state of set {@code name} (UP, DRAINING, DOWN). */
    public GatewayYaml setState(String name, String state) {
        set(name).state = state;
        return this;
    }

    /** Endpoints of set {@code name} for one AO service ({@code package.Service}), beside its default ones. */
    public GatewayYaml setService(String name, String service, String endpoints) {
        set(name).services.put(service, endpoints);
        return this;
    }

    /** Whole top-level sections (admin, fleet, discovery, drain ...) appended as YAML text. */
    public GatewayYaml section(String yaml) {
        sections.append(yaml.endsWith("\n") ? yaml : yaml + "\n");
        return this;
    }

    private SetSpec set(String name) {
        for (SetSpec s : sets) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no set " + name + " in the topology");
    }

    public String build() {
        StringBuilder y = new StringBuilder();
        y.append("gateway:\n  city: sz\n  idc: sz-1\n  transport: auto\n  event-loop-threads: 2\n");
        y.append("listen:\n");
        listen.forEach((k, v) -> y.append("  ").append(k).append(": ").append(v).append('\n'));
        if (metricsTls != null) {
            y.append("  metrics-tls:\n").append(metricsTls);
        }
        if (listenTls != null) {
            y.append("  tls:\n").append(listenTls);
        }
        y.append("login:\n  ").append(tokenSecretLine).append("\n  timeout: ").append(loginTimeout)
                .append("\n  heartbeat-interval: ").append(heartbeat).append('\n').append(loginLines);
        y.append("limits:\n");
        limits.forEach((k, v) -> y.append("  ").append(k).append(": ").append(v).append('\n'));
        y.append("topology:\n  sets:\n");
        for (SetSpec s : sets) {
            y.append("    - {name: ").append(s.name).append(", city: ").append(s.city).append(", idc: ").append(s.idc);
            if (s.state != null) {
                y.append(", state: ").append(s.state);
            }
            y.append(", endpoints: [").append(s.endpoints).append(']');
            if (!s.services.isEmpty()) {
                StringJoiner services = new StringJoiner(", ", ", services: {", "}");
                s.services.forEach((service, endpoints) -> services.add(service + ": [" + endpoints + "]"));
                y.append(services);
            }
            y.append("}\n");
        }
        y.append("routes:\n");
        routes.forEach((k, v) -> y.append("  ").append(k).append(": ").append(v).append('\n'));
        y.append("""
                  write-points:
                    - {slots: 0-8191, set: sz-a}
                    - {slots: 8192-16383, set: sh-a}
                commands:
                  - {cmd: 1, method: test.Ao/Echo, route: READ, priority: P1, timeout: 10s}
                  - {cmd: 2, method: test.Ao/Echo, route: WRITE, priority: P0, timeout: 10s}
                  - {cmd: 3, method: test.Ao/Echo, route: READ, priority: P3, rate: 1, burst: 1}
                  - {cmd: 4, method: test.Ao/Fail, route: READ}
                  - {cmd: 5, method: test.Ao/Slow, route: READ, timeout: 200ms}
                """);
        y.append("upstream:\n  channel-mode: ").append(channelMode).append('\n');
        upstream.forEach((k, v) -> y.append("  ").append(k).append(": ").append(v).append('\n'));
        if (!outlier.isEmpty()) {
            y.append("  outlier: ").append(flow(outlier)).append('\n');
        }
        y.append("  health: ").append(flow(health)).append('\n');
        if (upstreamTls != null) {
            y.append("  tls:\n").append(upstreamTls);
        }
        y.append("admission:\n");
        admission.forEach((k, v) -> y.append("  ").append(k).append(": ").append(v).append('\n'));
        y.append(sections);
        return y.toString();
    }

    private static String flow(Map<String, String> map) {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        map.forEach((k, v) -> j.add(k + ": " + v));
        return j.toString();
    }

    @Override
    public String toString() {
        return build();
    }
}
