package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.limit.Admission;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Admission control through a running gateway: each limit answers its own code; connections stay. */
class AdmissionEndToEndTest {
    private static TestAo ao;

    @BeforeAll
    static void startAo() throws Exception {
        ao = new TestAo("sz-a");
    }

    @AfterAll
    static void stopAo() throws Exception {
        ao.close();
    }

    /** The test topology with these admission keys and values (key, value, key, value ...). */
    private static GatewayConfig config(Object... admission) {
        GatewayYaml yaml = GatewayYaml.testTopology(ao.address(), ao.address()).channelMode("per-event-loop");
        for (int i = 0; i < admission.length; i += 2) {
            yaml.admission((String) admission[i], admission[i + 1]);
        }
        return GatewayConfig.parse(yaml.build(), Path.of("."), name -> null);
    }

    private static TestClient loggedIn(GatewayServer gateway, long uid) throws Exception {
        TestClient client = new TestClient(gateway.port());
        client.login(uid, TestTopology.token(uid));
        assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
        return client;
    }

    private static List<Code> send(TestClient client, int firstSeq, int count, int cmd) throws Exception {
        for (int i = 0; i < count; i++) {
            client.sendNoFlush(TestClient.request(firstSeq + i, cmd, "x"));
        }
        client.flush();
        List<Code> codes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            codes.add(client.next().getResponse().getCode());
        }
        return codes;
    }

    @Test
    void operatorDegradeShedsLowerPrioritiesAndLimitsChangeWithoutDroppingConnections() throws Exception {
        try (GatewayServer gateway = GatewayServer.start(config()); TestClient client = loggedIn(gateway, 11)) {
            assertThat(send(client, 1, 1, TestTopology.READ)).containsExactly(Code.OK); // P1

            gateway.updateLimits(config("degrade", "P0"));
            assertThat(send(client, 2, 1, TestTopology.READ)).containsExactly(Code.SHED_OVERLOAD);
            assertThat(send(client, 3, 1, TestTopology.WRITE)).containsExactly(Code.OK); // P0 is kept
            assertThat(gateway.context().commandTable().decisions(TestTopology.READ, Admission.SHED_PRIORITY)).isEqualTo(1);
            assertThat(gateway.context().commandTable().decisions(TestTopology.READ, Admission.ADMIT)).isEqualTo(1);

            gateway.updateLimits(config("degrade", "none"));
            assertThat(send(client, 4, 1, TestTopology.READ)).containsExactly(Code.OK);
            assertThat(client.isClosed()).isFalse();
        }
    }

    @Test
    void aConnectionOverItsRateGetsItsOwnCode() throws Exception {
        try (GatewayServer gateway = GatewayServer.start(config("connection-rate", 1, "connection-burst", 5));
             TestClient client = loggedIn(gateway, 12)) {
            List<Code> codes = send(client, 1, 8, TestTopology.READ);
            assertThat(codes.stream().filter(c -> c == Code.OK).count()).isEqualTo(5);
            assertThat(codes.stream().filter(c -> c == Code.CONNECTION_RATE_LIMITED).count()).isEqualTo(3);
            // Another connection has its own bucket.
            try (TestClient other = loggedIn(gateway, 13)) {
                assertThat(send(other, 1, 1, TestTopology.READ)).containsExactly(Code.OK);
            }
        }
    }

    @Test
    void aUserOverItsRateIsLimitedAcrossItsConnections() throws Exception {
        try (GatewayServer gateway = GatewayServer.start(config("user-rate", 0.5, "user-burst", 4));
             TestClient first = loggedIn(gateway, 21); TestClient second = loggedIn(gateway, 21);
             TestClient otherUser = loggedIn(gateway, 22)) {
            List<Code> codes = new ArrayList<>(send(first, 1, 3, TestTopology.READ));
            codes.addAll(send(second, 1, 3, TestTopology.READ));
            assertThat(codes.stream().filter(c -> c == Code.OK).count()).isEqualTo(4);
            assertThat(codes.stream().filter(c -> c == Code.RATE_LIMITED).count()).isEqualTo(2);
            assertThat(send(otherUser, 1, 1, TestTopology.READ)).containsExactly(Code.OK);
        }
    }

    @Test
    void acceptAndLoginStormsAreRefusedWithRetryAdvice() throws Exception {
        try (GatewayServer gateway = GatewayServer.start(config("accept-rate", 0.1, "accept-burst", 2))) {
            try (TestClient a = loggedIn(gateway, 1); TestClient b = loggedIn(gateway, 2);
                 TestClient c = new TestClient(gateway.port())) {
                ServerFrame refused = c.next();
                assertThat(refused.getGoAway().getCode()).isEqualTo(Code.RATE_LIMITED);
                assertThat(refused.getGoAway().getReconnectAfterMs()).isBetween(1_000, 5_000);
                assertThat(c.awaitClosed(2_000)).isTrue();
                assertThat(send(a, 1, 1, TestTopology.READ)).containsExactly(Code.OK);
            }
            assertThat(gateway.context().counters().acceptsRefused()).isEqualTo(1);
        }
        try (GatewayServer gateway = GatewayServer.start(config("login-rate", 0.1, "login-burst", 1));
             TestClient a = loggedIn(gateway, 1); TestClient b = new TestClient(gateway.port())) {
            b.login(2, TestTopology.token(2));
            ServerFrame ack = b.next();
            assertThat(ack.getLoginAck().getCode()).isEqualTo(Code.RATE_LIMITED);
            assertThat(b.awaitClosed(2_000)).isTrue();
            assertThat(gateway.context().counters().loginsRefused()).isEqualTo(1);
        }
    }
}
