package io.cellgate.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cellgate.route.RouteClass;
import io.cellgate.route.WriteFailover;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayConfigTest {
    private static final Path SHIPPED = Path.of("..", "conf", "gateway.yaml");
    private static final Map<String, String> ENV = Map.of("CELLGATE_TOKEN_SECRET", "a-secret-of-at-least-16-bytes",
            "CELLGATE_ADMIN_TOKEN", "an-admin-token-of-16-bytes");

    private static GatewayConfig parse(String yaml) {
        return GatewayConfig.parse(yaml, Path.of("."), ENV::get);
    }

    /** {@code text} with {@code from}, which must be in it exactly once, replaced by {@code to}. */
    private static String edit(String text, String from, String to) {
        return io.cellgate.testkit.TestTopology.edit(text, from, to);
    }

    private static String shipped() throws IOException {
        return Files.readString(SHIPPED);
    }

    @Test
    void theShippedConfigIsValid() throws IOException {
        GatewayConfig config = parse(shipped());
        assertThat(config.city()).isEqualTo("shenzhen");
        assertThat(config.listenPort()).isEqualTo(9000);
        assertThat(config.loginTimeout()).isEqualTo(Duration.ofSeconds(8));
        assertThat(config.maxFrameBytes()).isEqualTo(1 << 20);
        assertThat(config.routes().sets()).hasSize(4);
        assertThat(config.routes().slotCount()).isEqualTo(16384);
        assertThat(config.routes().epoch()).isEqualTo(1);
        assertThat(config.commands()).extracting(CommandSpec::route)
                .containsExactly(RouteClass.READ, RouteClass.READ, RouteClass.WRITE, RouteClass.CENTER, RouteClass.READ);
        assertThat(config.commands().get(2).failover()).isEqualTo(WriteFailover.FAIL);
        assertThat(config.toString()).doesNotContain("a-secret-of-at-least-16-bytes");
    }

    @Test
    void theFleetStoreIsChosenInTheConfigAndCheckedForWhatItNeeds() throws IOException {
        String ok = shipped();
        assertThat(parse(ok).fleet()).isNull();
        GatewayConfig etcd = parse(edit(ok, "  store: file\n", "  store: etcd\n"));
        assertThat(etcd.fleet().endpoints()).containsExactly("http://127.0.0.1:2379");
        assertThat(etcd.fleet().prefix()).isEqualTo("/cellgate/default/");
        assertThat(etcd.fleet().advertise()).isNull();
        assertThat(etcd.fleet().leaseTtl()).isEqualTo(Duration.ofSeconds(5));
        assertThatThrownBy(() -> parse(edit(ok, "  store: file\n", "  store: zookeeper\n")))
                .hasMessage("fleet.store: zookeeper (expected: file or etcd)");
        assertThatThrownBy(() -> parse(edit(edit(ok, "  store: file\n", "  store: etcd\n"), "  store-dir: ${STATE_DIRECTORY:-../data}/routes\n", "")))
                .hasMessageStartingWith("routes.store-dir: missing (expected: a directory for the local copy");
        assertThatThrownBy(() -> parse(edit(edit(ok, "  store: file\n", "  store: etcd\n"), "endpoints-file: off", "endpoints-file: e.yaml")))
                .hasMessageContaining("discovery.endpoints-file").hasMessageContaining("off when fleet.store is etcd");
        assertThatThrownBy(() -> parse(edit(edit(ok, "  store: file\n", "  store: etcd\n"), "[http://127.0.0.1:2379]", "[127.0.0.1]")))
                .hasMessage("fleet.etcd.endpoints: 127.0.0.1 (expected: etcd client URLs such as http://127.0.0.1:2379)");
    }

    @Test
    void errorsNameTheKeyTheValueAndWhatWasExpected() throws IOException {
        String ok = shipped();
        assertThatThrownBy(() -> parse(edit(ok, "timeout: 8s", "timeout: 8x")))
                .hasMessage("login.timeout: 8x (expected: a duration such as 500ms, 8s, 2m, 1h within 10ms..600000ms)");
        assertThatThrownBy(() -> parse(edit(ok, "client: ${CELLGATE_CLIENT_LISTEN:-0.0.0.0:9000}", "client: nowhere")))
                .hasMessage("listen.client: nowhere (expected: host:port)");
        assertThatThrownBy(() -> parse(edit(ok, "route: WRITE", "route: SIDEWAYS")))
                .hasMessage("commands[2].route: SIDEWAYS (expected: one of [WRITE, READ, CENTER])");
        assertThatThrownBy(() -> parse(edit(ok, "{cmd: 2,", "{cmd: 1,")))
                .hasMessage("commands[1].cmd: 1 (expected: a command word no other command has)");
        assertThatThrownBy(() -> parse(edit(ok, "cellgate.sample.v1.SampleAo/Get", "not a method")))
                .hasMessage("commands[1].method: not a method (expected: a full gRPC method name such as pkg.Service/Method)");
        assertThatThrownBy(() -> parse(edit(ok, "{slots: 12288-16383, set: sh-b}", "{slots: 12288-16000, set: sh-b}")))
                .hasMessageStartingWith("routes.write-points: slot 16001: no write-point set");
        assertThatThrownBy(() -> parse(edit(ok, "set: sh-b}", "set: sh-z}")))
                .hasMessageStartingWith("routes.write-points[3].set: sh-z (expected: one of the sets");
        assertThatThrownBy(() -> parse(edit(ok, "max-frame-bytes: 1048576", "max-frame-bytes: lots")))
                .hasMessage("limits.max-frame-bytes: lots (expected: an integer in 64..67108864)");
        assertThatThrownBy(() -> parse(edit(ok, "heartbeat-interval: 30s", "heartbeat-interval: 30s\n  color: blue")))
                .hasMessageStartingWith("login.color: unknown key (expected: one of");
        assertThatThrownBy(() -> parse("gateway: [1, 2"))
                .hasMessageStartingWith("config: not valid YAML");
        assertThatThrownBy(() -> parse(ok + "\ndye:\n  rules:\n    - {tag: canary, read-set: nowhere}\n"))
                .hasMessage("dye.rules[0].read-set: nowhere (expected: one of the topology's sets [sz-a, sz-b, sh-a, sh-b])");
        assertThatThrownBy(() -> parse(ok + "\ndye:\n  rules:\n    - {uids: [1]}\n"))
                .hasMessageStartingWith("dye.rules[0].tag: missing (expected: a tag, or client-dye: true");
        assertThatThrownBy(() -> parse(ok + "\ndye:\n  rules:\n    - {tag: 'a b'}\n"))
                .hasMessage("dye.rules[0].tag: a b (expected: 1-64 of [A-Za-z0-9._:-])");
        assertThatThrownBy(() -> parse(ok + "\ndye:\n  rules:\n    - {tag: x, uid-range: 9-1}\n"))
                .hasMessage("dye.rules[0].uid-range: 9-1 (expected: FIRST-LAST with FIRST <= LAST)");
    }

    @Test
    void theSecretComesFromExactlyOneSourceAndIsNeverEchoed(@TempDir Path dir) throws IOException {
        String ok = shipped();
        assertThatThrownBy(() -> GatewayConfig.parse(ok, dir, Map.of("CELLGATE_ADMIN_TOKEN", "an-admin-token-of-16-bytes")::get))
                .hasMessage("login.token-secret-env: CELLGATE_TOKEN_SECRET (expected: the name of a set environment variable)");
        assertThatThrownBy(() -> GatewayConfig.parse(ok, dir,
                Map.of("CELLGATE_TOKEN_SECRET", "short", "CELLGATE_ADMIN_TOKEN", "an-admin-token-of-16-bytes")::get))
                .hasMessage("login.token-secret-env: a secret of 5 bytes (expected: at least 16 bytes)");
        Files.writeString(dir.resolve("token.secret"), "from-a-file-0123456789\n");
        GatewayConfig fromFile = GatewayConfig.parse(
                edit(ok, "token-secret-env: CELLGATE_TOKEN_SECRET", "token-secret-file: token.secret"), dir,
                Map.of("CELLGATE_ADMIN_TOKEN", "an-admin-token-of-16-bytes")::get);
        assertThat(new String(fromFile.tokenSecret(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("from-a-file-0123456789");
        assertThatThrownBy(() -> parse(edit(ok, "token-secret-env: CELLGATE_TOKEN_SECRET",
                "token-secret-env: CELLGATE_TOKEN_SECRET\n  token-secret: inline-secret-0123456789")))
                .hasMessageContaining("expected: exactly one of");
    }

    @Test
    void environmentVariablesFillValuesWithDefaults() {
        java.util.Map<String, String> env = java.util.Map.of("PORT", "9555", "EMPTY", "");
        assertThat(GatewayConfig.expand("a: ${PORT}\nb: ${NONE:-x:1}\nc: ${EMPTY:-d}\n# ${UNSET} stays\n", env::get))
                .isEqualTo("a: 9555\nb: x:1\nc: d\n# ${UNSET} stays\n");
        assertThatThrownBy(() -> GatewayConfig.expand("listen: ${UNSET}", env::get)).isInstanceOf(ConfigException.class)
                .hasMessage("config: ${UNSET} (expected: the environment variable UNSET set, or a default as ${UNSET:-value})");
    }
}
