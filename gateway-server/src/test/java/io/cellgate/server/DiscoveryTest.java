package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Endpoints from a watched file, kept in the route store as the last-known-good copy. */
class DiscoveryTest {

    private static ServerFrame read(GatewayServer gateway, long seq) throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(6, TestTopology.token(6));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.send(TestClient.request(seq, TestTopology.READ, "d"));
            return client.next();
        }
    }

    @Test
    void endpointsComeFromTheFileAndSurviveItsLossAcrossARestart(@TempDir Path dir) throws Exception {
        String dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = "127.0.0.1:" + s.getLocalPort();
        }
        Path endpoints = dir.resolve("endpoints.yaml");
        try (TestAo ao = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(dead, sh.address()).storeDir(dir.resolve("routes"))
                    .section("discovery:\n  endpoints-file: " + endpoints + "\n  poll: 50ms\n").build();
            GatewayConfig config = GatewayConfig.parse(yaml, Path.of("."), name -> null);
            Files.writeString(endpoints, "sets:\n  sz-a: [" + ao.address() + "]\n  nowhere: [127.0.0.1:1]\n");
            try (GatewayServer gateway = GatewayServer.start(config)) {
                Await.until("sz-a's endpoints from the file", () -> gateway.routing().set(0).endpoints().contains(ao.address()));
                assertThat(gateway.routes().current().set(0).endpoints()).containsExactly(ao.address());
                assertThat(gateway.discovery().stale()).isFalse();
                assertThat(read(gateway, 1).getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|d");
            }

            // The discovery source is gone; a restart serves from the stored endpoints at once, and says they are stale.
            Files.delete(endpoints);
            try (GatewayServer gateway = GatewayServer.start(config)) {
                assertThat(gateway.routes().current().set(0).endpoints()).containsExactly(ao.address());
                ServerFrame first = read(gateway, 2);
                assertThat(first.getResponse().getCode()).isEqualTo(Code.OK);
                assertThat(first.getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|d");
                Await.until("the missing endpoints file reported stale", () -> gateway.discovery().stale());
                assertThat(gateway.discovery().ageMillis()).isGreaterThanOrEqualTo(0);
            }
        }
    }
}
