package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A call's failure counts against an AO only when the AO caused it: a deadline a client shortened
 * below what the AO needs is the client's choice, and must not eject the AO or take its set down.
 */
class BlameTest {

    @Test
    void aClientsTinyDeadlinesNeitherEjectTheAoNorTakeItsSetDown() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            sz.delayEcho(3);
            // Health on and quick, so a wrong verdict would show within the test.
            // The floor off (1 ms): the deadlines really are shorter than the AO needs, and the blame rule is what is tested.
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).health("interval", "100ms").health("recovery", "1s")
                    .limit("min-timeout", "1ms").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient hasty = new TestClient(gateway.port());
                 TestClient other = new TestClient(gateway.port())) {
                long hastyUid = TestTopology.uidInSlots(1000, 0, 8191);
                hasty.login(hastyUid, TestTopology.token(hastyUid));
                assertThat(hasty.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                long otherUid = TestTopology.uidInSlots(hastyUid + 1, 0, 8191);
                other.login(otherUid, TestTopology.token(otherUid));
                assertThat(other.next().getLoginAck().getCode()).isEqualTo(Code.OK);

                Map<Code, Integer> codes = new EnumMap<>(Code.class);
                for (int batch = 0; batch < 10; batch++) {
                    for (int i = 0; i < 100; i++) {
                        ClientFrame read = TestClient.request(batch * 100L + i + 1, TestTopology.READ, "hasty");
                        hasty.sendNoFlush(read.toBuilder().setRequest(read.getRequest().toBuilder().setTimeoutMs(1)).build());
                    }
                    hasty.flush();
                    for (int i = 0; i < 100; i++) {
                        codes.merge(hasty.next().getResponse().getCode(), 1, Integer::sum);
                    }
                }
                assertThat(codes.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(1000);
                assertThat(codes.getOrDefault(Code.UPSTREAM_TIMEOUT, 0)).as("answers: %s", codes).isPositive();

                // Over several health intervals (a wrong verdict would be reached within them), the AO
                // stays in rotation and its set UP.
                Await.holdsFor("sz-a's AO in rotation and sz-a UP", Duration.ofMillis(600), () -> {
                    RouteTable t = gateway.routing();
                    return !gateway.context().endpointsEjected().get(sz.address()) && t.set(t.indexOf("sz-a")).state() == SetState.UP;
                });

                other.send(TestClient.request(1, TestTopology.READ, "r"));
                other.send(TestClient.request(2, TestTopology.WRITE, "w"));
                for (int i = 0; i < 2; i++) {
                    ServerFrame answer = other.next();
                    assertThat(answer.getResponse().getCode()).as("answer %s", answer).isEqualTo(Code.OK);
                    assertThat(answer.getResponse().getBody().toStringUtf8()).startsWith("sz-a|");
                }
            }
        }
    }

    @Test
    void theMinTimeoutRaisesATinyDeadlineToWhatAnAoCanAnswerIn() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            sz.delayEcho(3);
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).limit("min-timeout", "200ms").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient hasty = new TestClient(gateway.port())) {
                long uid = TestTopology.uidInSlots(2000, 0, 8191);
                hasty.login(uid, TestTopology.token(uid));
                assertThat(hasty.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                // One read with the command's own timeout first: in a cold JVM the first call loads the
                // upstream path's classes and connects, which alone can take longer than 200 ms.
                hasty.send(TestClient.request(100, TestTopology.READ, "warm"));
                assertThat(hasty.next().getResponse().getCode()).isEqualTo(Code.OK);
                for (int i = 1; i <= 20; i++) {
                    ClientFrame read = TestClient.request(i, TestTopology.READ, "hasty");
                    hasty.send(read.toBuilder().setRequest(read.getRequest().toBuilder().setTimeoutMs(1)).build());
                    ServerFrame answer = hasty.next();
                    assertThat(answer.getResponse().getCode()).as("answer %s", answer).isEqualTo(Code.OK);
                }
            }
        }
    }
}
