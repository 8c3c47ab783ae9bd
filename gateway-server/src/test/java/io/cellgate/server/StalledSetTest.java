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

/**
 * A set that stops answering (a hung AO, or one that just started and is not yet compiled) gets a
 * few windows' calls, not as many as its concurrency limit's ceiling: the limit sees the calls waiting
 * in it and is cut before they miss their deadlines; the rest are refused {@code SHED_OVERLOAD} at once.
 */
class StalledSetTest {
    /** Reads offered while the set answers nothing: 600 over about 1.5 s. */
    private static final int OFFERED = 600;

    @Test
    void aSetThatStopsAnsweringGetsAFewWindowsOfCallsAndTheRestAreRefusedAtOnce() throws Exception {
        try (TestAo szA = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            // The shipped set limit (ceiling 2,000, so every offered read would fit under it).
            String yaml = GatewayYaml.testTopology(szA.address(), sh.address()).build();
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

                // sz-a stops answering for 4 s; the reads' timeout is 10 s, so none of them times out.
                szA.delayEcho(4_000);
                long callsBefore = szA.calls();
                for (int i = 0; i < OFFERED; i += 2) {
                    client.sendNoFlush(TestClient.request(++seq, TestTopology.READ, "r"));
                    client.send(TestClient.request(++seq, TestTopology.READ, "r"));
                    Thread.sleep(5);
                }
                int ok = 0;
                int shed = 0;
                for (int i = 0; i < OFFERED; i++) {
                    ServerFrame f = client.poll(15_000);
                    assertThat(f).as("answer %d of %d", i + 1, OFFERED).isNotNull();
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
                System.out.printf("stalled set: %d of %d reads sent to it, %d refused%n", admitted, OFFERED, shed);
                // Without the stall rule every read reaches sz-a (600); the rule holds it to a few windows' worth.
                assertThat(admitted).as("reads sent to the stalled set").isLessThan(OFFERED / 2);
                assertThat(ok).as("reads answered OK (those sent to sz-a)").isEqualTo((int) admitted);
                assertThat(shed).isEqualTo(OFFERED - (int) admitted);
                assertThat(sh.calls()).as("reads sent to the other city").isZero();

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
}
