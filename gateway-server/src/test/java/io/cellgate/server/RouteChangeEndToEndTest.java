package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.route.RouteChange;
import io.cellgate.route.SlotHash;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.Metadata;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Route changes through a running gateway: applied at once on open connections, and durable. */
class RouteChangeEndToEndTest {
    private static TestAo shenzhen;
    private static TestAo shanghai;

    @BeforeAll
    static void startAos() throws Exception {
        shenzhen = new TestAo("sz-a");
        shanghai = new TestAo("sh-a");
    }

    @AfterAll
    static void stopAos() throws Exception {
        shenzhen.close();
        shanghai.close();
    }

    private static String write(TestClient client, long seq) throws Exception {
        client.send(TestClient.request(seq, TestTopology.WRITE, "w" + seq));
        ServerFrame frame = client.next();
        assertThat(frame.getResponse().getCode()).isEqualTo(Code.OK);
        return frame.getResponse().getBody().toStringUtf8();
    }

    private static GatewayConfig configWithStore(Path dir) {
        String yaml = GatewayYaml.testTopology(shenzhen.address(), shanghai.address()).channelMode("per-event-loop").storeDir(dir)
                .build();
        return GatewayConfig.parse(yaml, Path.of("."), name -> null);
    }

    @Test
    void movingAUsersSlotToAnotherCityMovesItsWritesOnTheOpenConnection(@TempDir Path dir) throws Exception {
        long uid = TestTopology.uidInSlots(300, 0, 8191); // write point sz-a
        int slot = SlotHash.slotOf(uid, 16384);
        try (GatewayServer gateway = GatewayServer.start(configWithStore(dir));
             TestClient client = new TestClient(gateway.port())) {
            client.login(uid, TestTopology.token(uid));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            assertThat(write(client, 1)).isEqualTo("sz-a|w1");

            shanghai.clearHeaders();
            long epoch = gateway.routes().apply(List.of(new RouteChange.MoveSlots(slot, slot, "sh-a"))).epoch();
            assertThat(epoch).isEqualTo(2);
            assertThat(write(client, 2)).isEqualTo("sh-a|w2");
            Metadata headers = shanghai.nextHeaders();
            assertThat(headers.get(Metadata.Key.of("x-cellgate-route-epoch", Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("2");
            // Reads still go to the gateway's own city.
            client.send(TestClient.request(3, TestTopology.READ, "r"));
            assertThat(client.next().getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|r");

            gateway.routes().apply(List.of(new RouteChange.ForbidSlots(slot, slot, true)));
            client.send(TestClient.request(4, TestTopology.WRITE, "w4"));
            assertThat(client.next().getResponse().getCode()).isEqualTo(Code.WRITE_FORBIDDEN);
            client.send(TestClient.request(5, TestTopology.READ, "r5"));
            assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
            gateway.routes().apply(List.of(new RouteChange.ForbidSlots(slot, slot, false)));
            assertThat(client.isClosed()).isFalse();
        }

        // The moved slot survives a restart: the store, not the configuration, holds the live routes.
        try (GatewayServer gateway = GatewayServer.start(configWithStore(dir));
             TestClient client = new TestClient(gateway.port())) {
            assertThat(gateway.routes().current().epoch()).isEqualTo(4);
            client.login(uid, TestTopology.token(uid));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            assertThat(write(client, 1)).isEqualTo("sh-a|w1");
        }
    }

    @Test
    void aServiceCanHaveItsOwnEndpointsInASetAndTheyChangeAtRunTime() throws Exception {
        // Set sz-a's test.Ao service is served by the process that names itself sh-a.
        String yaml = GatewayYaml.testTopology(shenzhen.address(), shanghai.address()).channelMode("per-event-loop")
                .setService("sz-a", "test.Ao", shanghai.address()).build();
        try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
             TestClient client = new TestClient(gateway.port())) {
            client.login(5, TestTopology.token(5));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            shanghai.clearHeaders();
            client.send(TestClient.request(1, TestTopology.READ, "r"));
            assertThat(client.next().getResponse().getBody().toStringUtf8()).isEqualTo("sh-a|r");
            assertThat(shanghai.nextHeaders().get(Metadata.Key.of("x-cellgate-set", Metadata.ASCII_STRING_MARSHALLER)))
                    .isEqualTo("sz-a");

            gateway.routes().apply(List.of(new RouteChange.SetServiceEndpoints("sz-a", "test.Ao", List.of())));
            client.send(TestClient.request(2, TestTopology.READ, "r"));
            assertThat(client.next().getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|r");
        }
    }
}
