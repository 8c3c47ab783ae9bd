package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.server.config.GatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The shipped configuration, started, then every one of its keys changed by a reload, one at a time,
 * and changed back: each reload names exactly the keys it changed, each in the list the operator
 * documentation promises (applied, needs a restart, kept by the route store), and the applied ones
 * that are read through their own objects (sampling, admission, alternates) really changed.
 */
class ReloadEveryKeyTest {
    private static final Path SHIPPED = Path.of("../conf/gateway.yaml");

    private enum Expect { APPLIED, RESTART, STORE }

    /** One change: the keys it edits (dotted path to a new value) and where each must be reported. */
    private record Change(Map<String, Object> edits, Expect expect) {
        static Change of(Expect expect, Object... pathsAndValues) {
            Map<String, Object> edits = new LinkedHashMap<>();
            for (int i = 0; i < pathsAndValues.length; i += 2) {
                edits.put((String) pathsAndValues[i], pathsAndValues[i + 1]);
            }
            return new Change(edits, expect);
        }
    }

    /** A new valid value for every key of the shipped file (the first edit names the change). */
    private static final List<Change> CHANGES = List.of(
            Change.of(Expect.RESTART, "gateway.city", "hangzhou"),
            Change.of(Expect.RESTART, "gateway.idc", "sz-9"),
            Change.of(Expect.STORE, "gateway.read-preference", "city"),
            Change.of(Expect.RESTART, "gateway.transport", "nio"),
            Change.of(Expect.RESTART, "gateway.event-loop-threads", 1),
            Change.of(Expect.APPLIED, "gateway.alternates", List.of("10.0.0.2:9000")),
            Change.of(Expect.RESTART, "listen.client", "127.0.0.2:0"),
            Change.of(Expect.RESTART, "listen.metrics", "127.0.0.2:0"),
            Change.of(Expect.RESTART, "listen.websocket", "127.0.0.1:0"),
            Change.of(Expect.APPLIED, "listen.websocket-path", "/ws"),
            Change.of(Expect.APPLIED, "login.token-secret-env", "OTHER_TOKEN_SECRET"),
            Change.of(Expect.APPLIED, "login.timeout", "9s"),
            Change.of(Expect.APPLIED, "login.heartbeat-interval", "20s"),
            Change.of(Expect.APPLIED, "limits.max-frame-bytes", 524288),
            Change.of(Expect.APPLIED, "limits.max-in-flight-per-connection", 512),
            Change.of(Expect.APPLIED, "limits.max-in-flight-bytes-per-connection", 8388608),
            Change.of(Expect.APPLIED, "limits.max-outbound-bytes-per-connection", 2097152),
            Change.of(Expect.APPLIED, "limits.min-timeout", "30ms"),
            Change.of(Expect.APPLIED, "limits.close-timeout", "3s"),
            Change.of(Expect.APPLIED, "limits.pre-login-frames", 9),
            Change.of(Expect.APPLIED, "limits.pre-login-frame-bytes", 4096),
            Change.of(Expect.STORE, "topology.sets", List.of(
                    Map.of("name", "sz-a", "city", "shenzhen", "idc", "sz-1", "endpoints", List.of("127.0.0.1:7101", "127.0.0.1:7105")),
                    Map.of("name", "sz-b", "city", "shenzhen", "idc", "sz-2", "endpoints", List.of("127.0.0.1:7102")),
                    Map.of("name", "sh-a", "city", "shanghai", "idc", "sh-1", "endpoints", List.of("127.0.0.1:7103")),
                    Map.of("name", "sh-b", "city", "shanghai", "idc", "sh-2", "endpoints", List.of("127.0.0.1:7104")))),
            Change.of(Expect.RESTART, "routes.store-dir", "${STATE_DIRECTORY}/routes-2"),
            Change.of(Expect.STORE, "routes.slots", 8, "routes.write-points", List.of(
                    Map.of("slots", "0-3", "set", "sz-a"), Map.of("slots", "4-7", "set", "sh-a"))),
            Change.of(Expect.STORE, "routes.write-failover", "PEER"),
            Change.of(Expect.STORE, "routes.center-set", "sz-b"),
            Change.of(Expect.STORE, "routes.write-points", List.of(
                    Map.of("slots", "0-8191", "set", "sz-a"), Map.of("slots", "8192-16383", "set", "sh-a"))),
            Change.of(Expect.APPLIED, "commands", List.of(
                    Map.of("cmd", 1, "method", "cellgate.sample.v1.SampleAo/Echo", "route", "READ", "timeout", "2s"))),
            Change.of(Expect.RESTART, "discovery.endpoints-file", "endpoints.yaml"),
            Change.of(Expect.RESTART, "discovery.poll", "2s"),
            Change.of(Expect.RESTART, "fleet.store", "etcd"),
            Change.of(Expect.RESTART, "fleet.etcd.endpoints", List.of("http://127.0.0.1:2479")),
            Change.of(Expect.RESTART, "fleet.etcd.prefix", "/cellgate/other/"),
            Change.of(Expect.RESTART, "fleet.etcd.advertise", "127.0.0.1:9000"),
            Change.of(Expect.RESTART, "fleet.etcd.lease-ttl", "6s"),
            Change.of(Expect.RESTART, "fleet.etcd.timeout", "3s"),
            Change.of(Expect.RESTART, "fleet.etcd.probe-interval", "2s"),
            Change.of(Expect.RESTART, "access-log.file", "${LOGS_DIRECTORY}/other.log"),
            Change.of(Expect.APPLIED, "access-log.sample", 0.25),
            Change.of(Expect.RESTART, "access-log.ring-size", 1024),
            Change.of(Expect.RESTART, "admin.listen", "127.0.0.2:0"),
            Change.of(Expect.RESTART, "admin.token-env", "OTHER_ADMIN_TOKEN"),
            Change.of(Expect.APPLIED, "sessions.max-per-user", 8),
            Change.of(Expect.APPLIED, "sessions.when-full", "reject-new"),
            Change.of(Expect.RESTART, "push.listen", "127.0.0.1:0", "push.token", "push-token-0123456789"),
            Change.of(Expect.APPLIED, "push.rate-per-connection", 50),
            Change.of(Expect.APPLIED, "push.topic-rate", 500),
            Change.of(Expect.APPLIED, "push.max-topics", 1000),
            Change.of(Expect.APPLIED, "push.max-topic-members", 1000),
            Change.of(Expect.APPLIED, "push.ack-timeout", "3s"),
            Change.of(Expect.APPLIED, "logging.format", "json"),
            Change.of(Expect.APPLIED, "logging.level", "warn"),
            Change.of(Expect.APPLIED, "drain.reconnect-window", "5s"),
            Change.of(Expect.APPLIED, "drain.timeout", "20s"),
            Change.of(Expect.RESTART, "upstream.channel-mode", "shared"),
            Change.of(Expect.RESTART, "upstream.health.enabled", false),
            Change.of(Expect.RESTART, "upstream.health.interval", "1s"),
            Change.of(Expect.RESTART, "upstream.health.timeout", "2s"),
            Change.of(Expect.RESTART, "upstream.health.set-down-fraction", 0.5),
            Change.of(Expect.RESTART, "upstream.health.recovery", "10s"),
            Change.of(Expect.RESTART, "upstream.health.max-down-share", 0.25),
            Change.of(Expect.RESTART, "upstream.health.slow-start", "5s"),
            Change.of(Expect.RESTART, "upstream.set-limit.enabled", false),
            Change.of(Expect.RESTART, "upstream.set-limit.min", 4),
            Change.of(Expect.RESTART, "upstream.set-limit.max", 1000),
            Change.of(Expect.RESTART, "upstream.set-limit.tolerance", 3.0),
            Change.of(Expect.RESTART, "upstream.set-limit.window", "200ms"),
            Change.of(Expect.RESTART, "upstream.set-limit.connection-share", 0.5),
            Change.of(Expect.APPLIED, "upstream.retry-budget.ratio", 0.2),
            Change.of(Expect.APPLIED, "upstream.retry-budget.max", 50),
            Change.of(Expect.APPLIED, "upstream.retry-budget.window", "5s"),
            Change.of(Expect.RESTART, "upstream.outlier.max-ejection-percent", 25),
            Change.of(Expect.RESTART, "upstream.outlier.failure-codes", List.of("UNAVAILABLE")),
            Change.of(Expect.RESTART, "upstream.outlier.min-success-rate", 0.6),
            Change.of(Expect.RESTART, "upstream.outlier.min-requests", 10),
            Change.of(Expect.RESTART, "upstream.outlier.consecutive-failures", 3),
            Change.of(Expect.RESTART, "upstream.outlier.base-ejection", "5s"),
            Change.of(Expect.RESTART, "upstream.outlier.max-ejection", "1m"),
            Change.of(Expect.RESTART, "upstream.outlier.panic-threshold", 0.4),
            Change.of(Expect.APPLIED, "admission.accept-rate", 4000),
            Change.of(Expect.APPLIED, "admission.login-rate", 4000),
            Change.of(Expect.APPLIED, "admission.source-share", 0.5),
            Change.of(Expect.APPLIED, "admission.source-prefix-v4", 16),
            Change.of(Expect.APPLIED, "admission.source-prefix-v6", 48),
            Change.of(Expect.APPLIED, "admission.max-connections-per-address", 1000),
            Change.of(Expect.APPLIED, "admission.connection-rate", 1000),
            Change.of(Expect.APPLIED, "admission.user-rate", 10),
            Change.of(Expect.APPLIED, "admission.user-slots", 65536),
            Change.of(Expect.APPLIED, "admission.max-event-loop-lag", "100ms"),
            Change.of(Expect.APPLIED, "admission.max-in-flight", 100),
            Change.of(Expect.APPLIED, "admission.max-pending-outbound-bytes", 134217728),
            Change.of(Expect.APPLIED, "admission.max-heap-used", 0.8),
            Change.of(Expect.APPLIED, "admission.max-direct-used", 0.8),
            Change.of(Expect.APPLIED, "admission.window", "250ms"),
            Change.of(Expect.APPLIED, "admission.alpha", 0.1),
            Change.of(Expect.APPLIED, "admission.beta", 0.02),
            Change.of(Expect.APPLIED, "admission.recover", 0.8),
            Change.of(Expect.APPLIED, "admission.drop-low", 1.2),
            Change.of(Expect.APPLIED, "admission.drop-high", 2.5),
            Change.of(Expect.APPLIED, "admission.degrade", "P0"));

    @Test
    void everyKeyOfTheShippedConfigIsAppliedOrNamedByTheReloadThatChangesIt(@TempDir Path dir) throws Exception {
        String shipped = Files.readString(SHIPPED);
        Map<String, String> vars = Map.of("CELLGATE_TOKEN_SECRET", "token-secret-0123456789", "OTHER_TOKEN_SECRET",
                "other-token-secret-0123456789", "CELLGATE_ADMIN_TOKEN", "admin-token-0123456789", "OTHER_ADMIN_TOKEN",
                "other-admin-token-0123456789", "CELLGATE_CLIENT_LISTEN", "127.0.0.1:0", "CELLGATE_METRICS_LISTEN", "127.0.0.1:0",
                "CELLGATE_ADMIN_LISTEN", "127.0.0.1:0", "STATE_DIRECTORY", dir.resolve("state").toString(), "LOGS_DIRECTORY",
                dir.resolve("logs").toString());
        Function<String, String> env = vars::get;
        Path confDir = SHIPPED.toAbsolutePath().getParent();
        GatewayConfig original = GatewayConfig.parse(shipped, confDir, env);

        // Every key of the shipped file has its change here, and nothing else does.
        TreeSet<String> covered = new TreeSet<>();
        CHANGES.forEach(c -> covered.addAll(c.edits().keySet()));
        covered.removeIf(k -> !original.keys().keys().contains(k));
        assertThat(covered).as("keys of conf/gateway.yaml with a change in this test").containsExactlyElementsOf(original.keys().keys());

        try (GatewayServer gateway = GatewayServer.start(original)) {
            for (Change change : CHANGES) {
                Map<String, Object> document = load(shipped);
                change.edits().forEach((path, value) -> put(document, path, value));
                GatewayConfig next = GatewayConfig.parse(dump(document), confDir, env);

                ReloadOutcome there = gateway.reload(next);
                assertReported(change, there);
                if (change.expect() == Expect.APPLIED) {
                    assertTakenUp(gateway, change, next);
                }
                if (change.expect() == Expect.RESTART) {
                    // Still waiting for a restart: named again by the next reload of the same file.
                    assertReported(change, gateway.reload(next));
                }
                ReloadOutcome back = gateway.reload(original);
                if (change.expect() == Expect.RESTART) {
                    // Back to the value the gateway started with and runs: nothing waits for a restart.
                    assertThat(back.applied()).isEmpty();
                    assertThat(back.needsRestart()).isEmpty();
                    assertThat(back.keptByRouteStore()).isEmpty();
                } else {
                    assertReported(change, back);
                }
                assertTakenUp(gateway, change, original);
            }
            ReloadOutcome same = gateway.reload(GatewayConfig.parse(shipped, confDir, env));
            assertThat(same.applied()).isEmpty();
            assertThat(same.needsRestart()).isEmpty();
            assertThat(same.keptByRouteStore()).isEmpty();
        }
    }

    /** The reload named the change's keys, all in the expected list, and nothing else. */
    private static void assertReported(Change change, ReloadOutcome o) {
        List<String> expected = List.copyOf(new TreeSet<>(change.edits().keySet()));
        List<String> where = switch (change.expect()) {
            case APPLIED -> o.applied();
            case RESTART -> o.needsRestart();
            case STORE -> o.keptByRouteStore();
        };
        String first = change.edits().keySet().iterator().next();
        assertThat(List.copyOf(new TreeSet<>(where))).as("%s reported as %s (whole outcome: %s)", first, change.expect(), o)
                .isEqualTo(expected);
        int total = o.applied().size() + o.needsRestart().size() + o.keptByRouteStore().size();
        assertThat(total).as("keys reported for %s (%s)", first, o).isEqualTo(expected.size());
    }

    /** For the applied keys read through objects of their own: those objects follow. */
    private static void assertTakenUp(GatewayServer gateway, Change change, GatewayConfig now) {
        String key = change.edits().keySet().iterator().next();
        var context = gateway.context();
        assertThat(context.config()).isSameAs(now);
        if (key.equals("access-log.sample")) {
            assertThat(context.accessLog().sample()).isEqualTo(now.accessLogSample());
        } else if (key.startsWith("admission.")) {
            assertThat(context.admission()).isEqualTo(now.admission());
        } else if (key.equals("gateway.alternates")) {
            assertThat(context.alternates()).isEqualTo(now.alternates());
        } else if (key.equals("drain.timeout")) {
            assertThat(gateway.config().drainTimeout()).isEqualTo(now.drainTimeout()).isNotEqualTo(Duration.ZERO);
        }
    }

    private static Map<String, Object> load(String yaml) {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    }

    private static String dump(Map<String, Object> document) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(options).dump(document);
    }

    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> document, String path, Object value) {
        String[] parts = path.split("\\.");
        Map<String, Object> node = document;
        for (int i = 0; i < parts.length - 1; i++) {
            node = (Map<String, Object>) node.computeIfAbsent(parts[i], k -> new LinkedHashMap<String, Object>());
        }
        node.put(parts[parts.length - 1], value);
    }
}
