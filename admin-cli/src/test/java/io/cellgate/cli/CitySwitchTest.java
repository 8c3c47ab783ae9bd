package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestLoad;
import io.cellgate.testkit.TestTopology;
import io.grpc.Metadata;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A city switch with gatewayctl under load, its rollback, and a drain through the admin API. */
class CitySwitchTest {
    private static final Metadata.Key<String> CMD = Metadata.Key.of("x-cellgate-cmd", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> EPOCH = Metadata.Key.of("x-cellgate-route-epoch", Metadata.ASCII_STRING_MARSHALLER);

    @Test
    void noWriteIsAcceptedInTheOldCityAfterTheForbidAndReadsContinue(@TempDir Path dir) throws Exception {
        try (AdminFixture fx = new AdminFixture(dir)) {
            long uid = TestTopology.uidInSlots(0, 8192, 16383); // write point sh-a, in city sh
            try (TestLoad load = new TestLoad(fx.gateway.port(), uid)) {
                Await.until("50 writes OK", () -> load.count("write OK") >= 50);
                long epochBefore = fx.gateway.routes().current().epoch();
                fx.shanghai.drainHeaders();

                AdminFixture.Run dry = fx.ctl("-o", "json", "city", "switch", "--from", "sh", "--to", "sz", "--dry-run");
                assertThat(dry.exit()).as(dry.err()).isZero();
                assertThat(fx.gateway.routes().current().epoch()).isEqualTo(epochBefore);

                AdminFixture.Run run = fx.ctl("-o", "json", "city", "switch", "--from", "sh", "--to", "sz", "--settle", "2s");
                assertThat(run.exit()).as(run.err()).isZero();
                long forbidEpoch = AdminFixture.field(run.out(), "forbidEpoch");
                long finalEpoch = AdminFixture.field(run.out(), "finalEpoch");
                assertThat(forbidEpoch).isEqualTo(epochBefore + 1);
                // One change forbids, one moves the write points and allows writes again.
                assertThat(finalEpoch).isEqualTo(epochBefore + 2);
                long writesAfter = load.count("write OK");
                Await.until("50 more writes OK", () -> load.count("write OK") >= writesAfter + 50);
                // The old city's AO saw no write dispatched at or after the forbid epoch.
                List<Metadata> oldCity = fx.shanghai.drainHeaders();
                long lateWrites = oldCity.stream().filter(h -> "2".equals(h.get(CMD)))
                        .filter(h -> Long.parseLong(h.get(EPOCH)) >= forbidEpoch).count();
                assertThat(lateWrites).isZero();
                // Writes now land in the new city.
                assertThat(fx.gateway.routes().current().set(fx.gateway.routes().current().writePointOf(uid)).city()).isEqualTo("sz");
                assertThat(load.count("read OK")).isGreaterThan(50);
                assertThat(load.counts().keySet()).allMatch(k -> k.equals("read OK") || k.equals("write OK") || k.equals("write WRITE_FORBIDDEN"));

                AdminFixture.Run rollback = fx.ctl("-o", "json", "city", "rollback");
                assertThat(rollback.exit()).as(rollback.err()).isZero();
                // A switch back: its own forbid, then the move.
                assertThat(AdminFixture.field(rollback.out(), "epoch")).isEqualTo(finalEpoch + 2);
                assertThat(rollback.out()).contains("rolled back the last city switch");
                assertThat(fx.gateway.routes().current().set(fx.gateway.routes().current().writePointOf(uid)).name()).isEqualTo("sh-a");
                AdminFixture.Run again = fx.ctl("city", "rollback");
                assertThat(again.exit()).isEqualTo(1);
                assertThat(again.err()).contains("no city switch to roll back");
            }
        }
    }

    @Test
    void drainThroughTheAdminApiSendsGoAwayAndStopsTheGateway(@TempDir Path dir) throws Exception {
        try (AdminFixture fx = new AdminFixture(dir); TestClient client = new TestClient(fx.gateway.port())) {
            client.login(5, TestTopology.token(5));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            AdminFixture.Run drain = fx.ctl("-o", "json", "drain");
            assertThat(drain.exit()).as(drain.err()).isZero();
            assertThat(drain.out()).contains("\"started\": true");
            assertThat(client.next().getGoAway().getCode()).isEqualTo(Code.SHUTTING_DOWN);
            assertThat(client.awaitClosed(15_000)).isTrue();
            Await.until("the gateway no longer ready", () -> !fx.gateway.ready());
            assertThat(fx.gateway.ready()).isFalse();
        }
    }
}
