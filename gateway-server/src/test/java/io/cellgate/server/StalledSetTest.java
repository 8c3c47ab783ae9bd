package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A set that stops answering (a hung AO, or one that just started and is not yet compiled) is given
 * no more calls once those in it have waited half their command's time: its concurrency limit is cut
 * to what it answers, and the rest are refused {@code SHED_OVERLOAD} at once instead of queueing to
 * miss their deadlines. A client's own short deadline does not count: it cannot make a set look stalled.
 */
class StalledSetTest {
    /** Reads (cmd 1) get a 2 s timeout here: a call unanswered after 1 s has waited half its time. */
    private static final String READ_10S = "{cmd: 1, method: test.Ao/Echo, route: READ, priority: P1, timeout: 10s}";
    private static final String READ_2S = "{cmd: 1, method: test.Ao/Echo, route: READ, priority: P1, timeout: 2s}";

    @Test
    void aSetWhoseCallsWaitedHalfTheirTimeGetsNoMoreAndTheRestAreRefusedAtOnce() throws Exception {
        try (TestAo szA = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            // The shipped set limit: its ceiling (2,000) would admit every read offered here.
            String yaml = GatewayYaml.testTopology(szA.address(), sh.address()).build();
            assertThat(yaml).contains(READ_10S);
            yaml = yaml.replace(READ_10S, READ_2S);
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null));
                 TestClient client = new TestClient(gateway.port())) {
                long uid = TestTopology.uidInSlots(1, 0, 8191);
                client.login(uid, TestTopology.token(uid));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                long seq = 0;
                for (int i = 0; i < 50; i++) {
                    client.send(TestClient.request(++seq, TestTopology.READ, "warm"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                }

                // First, a client's own short deadline: 100 reads that give up after 100 ms while sz-a takes
                // 1.5 s. They end long before half the command's time, so the set does not look stalled.
                szA.delayEcho(1_500);
                for (int i = 0; i < 100; i++) {
                    client.sendNoFlush(withTimeout(TestClient.request(++seq, TestTopology.READ, "hurried"), 100));
                }
                client.flush();
                for (int i = 0; i < 100; i++) {
                    ServerFrame f = client.next();
                    assertThat(f.getResponse().getCode()).as(f.getResponse().getMessage()).isEqualTo(Code.UPSTREAM_TIMEOUT);
                }
                Thread.sleep(1_200);
                client.send(TestClient.request(++seq, TestTopology.READ, "after-hurried"));
                ServerFrame after = client.next();
                assertThat(after.getResponse().getCode()).as("a read after the hurried ones: %s", after.getResponse().getMessage())
                        .isEqualTo(Code.OK);
                assertThat(gateway.setLimits().get("sz-a").stalls()).as("stall cuts after the hurried reads").isZero();

                // Now sz-a stalls for real: 100 reads wait in it past half their 2 s; the next 300 are refused at
                // once (without the rule all 300 would be sent to it, the ceiling being 2,000), and the 100
                // are answered when sz-a answers, within their time.
                long callsBefore = szA.calls();
                for (int i = 0; i < 100; i++) {
                    client.sendNoFlush(TestClient.request(++seq, TestTopology.READ, "stalled"));
                }
                client.flush();
                Thread.sleep(1_150);
                for (int i = 0; i < 300; i++) {
                    client.sendNoFlush(TestClient.request(++seq, TestTopology.READ, "refused"));
                }
                client.flush();
                int ok = 0;
                int shed = 0;
                for (int i = 0; i < 400; i++) {
                    ServerFrame f = client.poll(5_000);
                    assertThat(f).as("answer %d of 400", i + 1).isNotNull();
                    Code code = f.getResponse().getCode();
                    if (code == Code.OK) {
                        ok++;
                    } else {
                        assertThat(code).as(f.getResponse().getMessage()).isEqualTo(Code.SHED_OVERLOAD);
                        assertThat(f.getResponse().getMessage()).startsWith("set sz-a is at its concurrency limit");
                        shed++;
                    }
                }
                long admitted = szA.calls() - callsBefore;
                System.out.printf("stalled set: %d of 400 reads sent to it, %d refused%n", admitted, shed);
                assertThat(ok).as("reads answered OK (those sent to sz-a)").isEqualTo((int) admitted);
                assertThat(admitted).as("reads sent to the stalled set").isLessThan(150);
                assertThat(shed).isEqualTo(400 - (int) admitted);
                assertThat(sh.calls()).as("reads sent to the other city").isZero();
                assertThat(gateway.setLimits().get("sz-a").stalls()).as("stall cuts").isPositive();

                // Answering again: the set takes every read again.
                szA.delayEcho(0);
                for (int i = 0; i < 50; i++) {
                    client.send(TestClient.request(++seq, TestTopology.READ, "again"));
                    ServerFrame f = client.next();
                    assertThat(f.getResponse().getCode()).as(f.getResponse().getMessage()).isEqualTo(Code.OK);
                }
            }
        }
    }

    private static ClientFrame withTimeout(ClientFrame request, int millis) {
        return request.toBuilder().setRequest(request.getRequest().toBuilder().setTimeoutMs(millis)).build();
    }
}
