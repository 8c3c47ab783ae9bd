package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A read its set's concurrency limit has no room for is served by the next nearest set of the same
 * city, never by another city's; a write is not moved.
 */
class SetLimitSpillTest {

    @Test
    void aReadTheNearestSetHasNoRoomForIsServedByTheNextSetOfTheSameCity() throws Exception {
        try (TestAo szA = new TestAo("sz-a"); TestAo szB = new TestAo("sz-b"); TestAo sh = new TestAo("sh-a")) {
            // Limits of 10 calls (P1 may fill 8), no connection counted light: the 9th read has no room at sz-a.
            String yaml = GatewayYaml.testTopology(szA.address(), sh.address()).addSet("sz-b", "sz", "sz-2", szB.address())
                    .setLimit("{max: 10, connection-share: 0}").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null));
                 TestClient client = new TestClient(gateway.port())) {
                szA.delayEcho(1_000);
                long uid = TestTopology.uidInSlots(1, 0, 8191);
                client.login(uid, TestTopology.token(uid));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                for (int seq = 1; seq <= 12; seq++) {
                    client.sendNoFlush(TestClient.request(seq, TestTopology.READ, "r"));
                }
                client.flush();
                Map<String, Integer> bySet = new HashMap<>();
                for (int i = 0; i < 12; i++) {
                    ServerFrame f = client.next();
                    assertThat(f.getResponse().getCode()).as(f.getResponse().getMessage()).isEqualTo(Code.OK);
                    bySet.merge(f.getResponse().getBody().toStringUtf8().split("\\|")[0], 1, Integer::sum);
                }
                assertThat(bySet).containsExactlyInAnyOrderEntriesOf(Map.of("sz-a", 8, "sz-b", 4));
                assertThat(gateway.context().counters().readsSpilled()).isEqualTo(4);

                // sz-b full too: the next read is refused, not sent to the other city.
                szB.delayEcho(1_000);
                for (int seq = 13; seq <= 30; seq++) {
                    client.sendNoFlush(TestClient.request(seq, TestTopology.READ, "r"));
                }
                client.flush();
                int shed = 0;
                for (int i = 0; i < 18; i++) {
                    ServerFrame f = client.next();
                    if (f.getResponse().getCode() == Code.SHED_OVERLOAD) {
                        shed++;
                        assertThat(f.getResponse().getMessage()).startsWith("set sz-a is at its concurrency limit (10)");
                    } else {
                        assertThat(f.getResponse().getCode()).isEqualTo(Code.OK);
                        assertThat(f.getResponse().getBody().toStringUtf8()).startsWith("sz-");
                    }
                }
                assertThat(shed).as("refused once sz-a and sz-b hold 8 each").isEqualTo(2);
                assertThat(sh.calls()).as("reads sent to the other city").isZero();
            }
        }
    }
}
