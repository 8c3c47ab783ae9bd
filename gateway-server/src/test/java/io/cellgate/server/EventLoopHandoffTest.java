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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hand-offs per request: tasks given to an event loop by another thread, counted by the gateway's
 * loop group. With {@code channel-mode: per-event-loop} (the default) or {@code lean} a request's client
 * connection and its upstream call share a loop, so a request, one at a time or pipelined, hands nothing off.
 * With {@code shared} a connection on another loop than the endpoint's channel hands off at least
 * twice per request (the call's start, the response's write; four with gRPC's deadline timer set and
 * cancelled on the channel's loop); the second test shows the counter sees them.
 */
class EventLoopHandoffTest {
    private static final int REQUESTS = 1_000;

    @ParameterizedTest
    @ValueSource(strings = {"per-event-loop", "lean"})
    void aRequestServedOnItsConnectionsLoopHandsNothingOff(String mode) throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).channelMode(mode)
                    // The hand-offs are measured, not admission: the adaptive set limit, learning from a busy
                    // machine's latency, could refuse some of the pipelined bursts.
                    .setLimit("{enabled: false}").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null));
                 TestClient client = new TestClient(gateway.port())) {
                login(client, 1);
                // Warm-up: the loop's channel to sz-a connects on its first call (gRPC resolves and
                // connects from its own threads once).
                roundTrips(client, 0, 50);

                long before = gateway.eventLoopHandoffs();
                roundTrips(client, 1_000, REQUESTS);
                // Pipelined in bursts of 100.
                for (int burst = 0; burst < REQUESTS / 100; burst++) {
                    pipelined(client, 10_000 + burst * 100, 100);
                }
                long handoffs = gateway.eventLoopHandoffs() - before;

                assertThat(handoffs).as("hand-offs for %d requests one at a time and %d pipelined", REQUESTS, REQUESTS).isZero();
                assertThat(sz.calls()).isEqualTo(50 + 2L * REQUESTS);
            }
        }
    }

    @Test
    void sharedChannelsHandOffAtLeastTwicePerRequestOfAConnectionOnAnotherLoop() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).channelMode("shared").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null));
                 TestClient first = new TestClient(gateway.port());
                 TestClient second = new TestClient(gateway.port())) {
                // Two connections land on the two loops in turn; sz-a's one channel is on one of them.
                login(first, 1);
                login(second, 2);
                roundTrips(first, 0, 50);
                roundTrips(second, 0, 50);

                long before = gateway.eventLoopHandoffs();
                roundTrips(first, 1_000, REQUESTS);
                roundTrips(second, 1_000, REQUESTS);
                long handoffs = gateway.eventLoopHandoffs() - before;

                // One connection shares the channel's loop (none), the other does not (two or more per request).
                assertThat(handoffs).as("hand-offs for %d requests on each of two connections", REQUESTS)
                        .isGreaterThanOrEqualTo(2L * REQUESTS);
            }
        }
    }

    private static void login(TestClient client, long slot) throws Exception {
        long uid = TestTopology.uidInSlots(slot, 0, 8191);
        client.login(uid, TestTopology.token(uid));
        assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
    }

    private static void roundTrips(TestClient client, int firstSeq, int count) throws Exception {
        for (int seq = firstSeq; seq < firstSeq + count; seq++) {
            client.send(TestClient.request(seq, TestTopology.READ, "r"));
            assertOk(client.next(), seq);
        }
    }

    private static void pipelined(TestClient client, int firstSeq, int count) throws Exception {
        for (int seq = firstSeq; seq < firstSeq + count; seq++) {
            client.sendNoFlush(TestClient.request(seq, TestTopology.READ, "r"));
        }
        client.flush();
        for (int i = 0; i < count; i++) {
            ServerFrame f = client.next();
            assertThat(f.getResponse().getCode()).as(f.getResponse().getMessage()).isEqualTo(Code.OK);
        }
    }

    private static void assertOk(ServerFrame f, int seq) {
        assertThat(f.getResponse().getSeq()).isEqualTo(seq);
        assertThat(f.getResponse().getCode()).as(f.getResponse().getMessage()).isEqualTo(Code.OK);
    }
}
