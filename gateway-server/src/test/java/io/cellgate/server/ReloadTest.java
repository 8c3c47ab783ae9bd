package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.GatewaydProcess;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/** SIGHUP reloads gatewayd's configuration file; a broken one is refused and the old one keeps serving. */
@StartsProcesses
class ReloadTest {

    private static void hup(Process p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    @Test
    void aBrokenConfigIsRefusedWithTheKeyAndAValidOneAppliesWithoutDroppingConnections(@TempDir Path dir) throws Exception {
        try (TestAo ao = new TestAo("sz-a")) {
            GatewayYaml topology = GatewayYaml.testTopology(ao.address(), ao.address());
            String yaml = topology.build();
            Path config = dir.resolve("gateway.yaml");
            Path log = dir.resolve("gatewayd.log");
            Files.writeString(config, yaml, StandardCharsets.UTF_8);
            try (GatewaydProcess daemon = GatewaydProcess.start(config, log)) {
                try (TestClient client = new TestClient(daemon.port())) {
                    client.login(3, TestTopology.token(3));
                    assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    client.send(TestClient.request(1, TestTopology.READ, "a"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);

                    Files.writeString(config, topology.limit("max-frame-bytes", "lots").build());
                    hup(daemon.process());
                    daemon.awaitLine("reload refused, the running configuration stays: limits.max-frame-bytes: lots (expected: an integer");
                    client.send(TestClient.request(2, TestTopology.READ, "b"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);

                    Files.writeString(config, topology.limit("max-frame-bytes", 65536).admission("degrade", "P0").build());
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

    @Test
    void startedWithSighupIgnoredGatewaydSaysSoAndHowToReload(@TempDir Path dir) throws Exception {
        try (TestAo ao = new TestAo("sz-a")) {
            Path config = dir.resolve("gateway.yaml");
            Files.writeString(config, GatewayYaml.testTopology(ao.address(), ao.address()).build(), StandardCharsets.UTF_8);
            try (GatewaydProcess daemon = GatewaydProcess.startWithHupIgnored(config, dir.resolve("gatewayd.log"))) {
                daemon.awaitLine("SIGHUP is ignored by this process");
                daemon.awaitLine("reload with gatewayctl reload");
            }
        }
    }
}
