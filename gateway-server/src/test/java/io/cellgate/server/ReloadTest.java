package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.server.testing.GatewaydProcess;
import io.cellgate.server.testing.TestAo;
import io.cellgate.server.testing.TestClient;
import io.cellgate.server.testing.TestTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGHUP reloads gatewayd's configuration file; a broken one is refused and the old one keeps serving. */
class ReloadTest {

    private static void hup(Process p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    @Test
    void aBrokenConfigIsRefusedWithTheKeyAndAValidOneAppliesWithoutDroppingConnections(@TempDir Path dir) throws Exception {
        try (TestAo ao = new TestAo("sz-a")) {
            String yaml = TestTopology.yaml(ao.address(), ao.address(), "shared", "8s", "30s");
            Path config = dir.resolve("gateway.yaml");
            Path log = dir.resolve("gatewayd.log");
            Files.writeString(config, yaml, StandardCharsets.UTF_8);
            try (GatewaydProcess daemon = GatewaydProcess.start(config, log)) {
                try (TestClient client = new TestClient(daemon.port())) {
                    client.login(3, TestTopology.token(3));
                    assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    client.send(TestClient.request(1, TestTopology.READ, "a"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);

                    Files.writeString(config, yaml.replace("max-frame-bytes: 65536", "max-frame-bytes: lots"));
                    hup(daemon.process());
                    daemon.awaitLine("reload refused, the running configuration stays: limits.max-frame-bytes: lots (expected: an integer");
                    client.send(TestClient.request(2, TestTopology.READ, "b"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);

                    Files.writeString(config, yaml.replace("admission:\n", "admission:\n  degrade: P0\n"));
                    hup(daemon.process());
                    daemon.awaitLine("reload: applied");
                    client.send(TestClient.request(3, TestTopology.READ, "c"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.SHED_OVERLOAD);
                    client.send(TestClient.request(4, TestTopology.WRITE, "d"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                    assertThat(client.isClosed()).isFalse();
                }
            }
        }
    }
}
