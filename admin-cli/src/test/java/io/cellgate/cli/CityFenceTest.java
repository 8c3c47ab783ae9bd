package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Response;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.Metadata;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fencing at the AO: two gateways in front of the same AOs, the second with routes of its own that a
 * city switch on the first never reaches (a gateway cut off from the fleet's store). After the switch
 * the old city's AO refuses that gateway's writes, and the gateway answers them WRITE_FORBIDDEN.
 */
class CityFenceTest {
    private static final Metadata.Key<String> CMD = Metadata.Key.of("x-cellgate-cmd", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> EPOCH = Metadata.Key.of("x-cellgate-route-epoch", Metadata.ASCII_STRING_MARSHALLER);

    private static Response call(TestClient client, long seq, int cmd) throws Exception {
        client.send(TestClient.request(seq, cmd, "x"));
        Response r = client.next().getResponse();
        assertThat(r.getSeq()).isEqualTo(seq);
        return r;
    }

    @Test
    void aGatewayThatMissedTheSwitchCannotLandAWriteInTheOldCity(@TempDir Path dir) throws Exception {
        try (AdminFixture fx = new AdminFixture(dir);
             GatewayServer stale = GatewayServer.start(GatewayConfig.parse(
                     TestTopology.yaml(fx.shenzhen.address(), fx.shanghai.address(), "shared", "8s", "30s"), Path.of("."), n -> null));
             TestClient current = new TestClient(fx.gateway.port());
             TestClient cutOff = new TestClient(stale.port())) {
            long uid = TestTopology.uidInSlots(0, 8192, 16383); // write point sh-a, in city sh
            for (TestClient c : List.of(current, cutOff)) {
                c.login(uid, TestTopology.token(uid));
                assertThat(c.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            }
            long seq = 0;
            assertThat(call(cutOff, ++seq, TestTopology.WRITE).getCode()).as("before the switch").isEqualTo(Code.OK);
            long staleEpoch = stale.routes().current().epoch();

            AdminFixture.Run run = fx.ctl("-o", "json", "city", "switch", "--from", "sh", "--to", "sz", "--settle", "1s");
            assertThat(run.exit()).as(run.err()).isZero();
            long forbidEpoch = AdminFixture.field(run.out(), "forbidEpoch");
            // The switch told sh's AO its fence before it moved a write point.
            assertThat(AdminFixture.field(run.out(), "fencedEndpoints")).isEqualTo(1);
            assertThat(AdminFixture.field(run.out(), "oldCityEndpoints")).isEqualTo(1);
            assertThat(fx.shanghai.fence().fence()).isEqualTo(forbidEpoch);
            assertThat(stale.routes().current().epoch()).as("the second gateway never saw the switch").isEqualTo(staleEpoch);
            fx.shanghai.clearHeaders();

            // The gateway with current routes writes in the new city; the cut-off one still aims at sh-a
            // and is refused there; its reads go on.
            for (int i = 0; i < 20; i++) {
                assertThat(call(current, ++seq, TestTopology.WRITE).getCode()).isEqualTo(Code.OK);
                Response refused = call(cutOff, ++seq, TestTopology.WRITE);
                assertThat(refused.getCode()).isEqualTo(Code.WRITE_FORBIDDEN);
                assertThat(refused.getMessage()).contains("route epoch " + staleEpoch, "predate a city switch");
                assertThat(call(cutOff, ++seq, TestTopology.READ).getCode()).isEqualTo(Code.OK);
            }
            assertThat(fx.shanghai.fence().refused()).isEqualTo(20);
            assertThat(stale.context().counters().fencedWrites()).isEqualTo(20);
            // No write reached the old city's service after the forbid epoch, from either gateway.
            assertThat(fx.shanghai.drainHeaders()).noneMatch(h -> "2".equals(h.get(CMD)));
            // Nor was the AO blamed for it: the refusal is no failure of the set.
            assertThat(stale.healthChanges()).isZero();

            // Rolling the switch back puts the write point in sh again under a newer epoch: the current
            // gateway's writes are accepted there, the cut-off gateway's are still refused.
            AdminFixture.Run rollback = fx.ctl("-o", "json", "city", "rollback");
            assertThat(rollback.exit()).as(rollback.err()).isZero();
            assertThat(fx.gateway.routes().current().fenceEpochs()).containsEntry("sh", forbidEpoch);
            assertThat(call(current, ++seq, TestTopology.WRITE).getCode()).isEqualTo(Code.OK);
            assertThat(fx.shanghai.drainHeaders()).anyMatch(h -> "2".equals(h.get(CMD)) && Long.parseLong(h.get(EPOCH)) > forbidEpoch);
            assertThat(call(cutOff, ++seq, TestTopology.WRITE).getCode()).isEqualTo(Code.WRITE_FORBIDDEN);
        }
    }
}
