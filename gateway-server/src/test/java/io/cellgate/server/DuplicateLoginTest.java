package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.GoAway;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.LoginAck;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Each duplicate-login policy over real sockets: who stays, who goes, and what the one that goes is told. */
class DuplicateLoginTest {
    private static GatewayServer start(TestAo sz, TestAo sh, String sessions) throws Exception {
        GatewayYaml yaml = GatewayYaml.testTopology(sz.address(), sh.address()).section(sessions);
        return GatewayServer.start(GatewayConfig.parse(yaml.build(), Path.of("."), n -> null));
    }

    private static TestClient login(GatewayServer gateway, long uid, String deviceId, Code expected) throws Exception {
        TestClient c = new TestClient(gateway.port());
        c.send(ClientFrame.newBuilder().setLogin(Login.newBuilder().setUid(uid).setToken(TestTopology.token(uid)).setDevice("ios")
                .setDeviceId(deviceId).setAppVersion("7.3.1")).build());
        LoginAck ack = c.next().getLoginAck();
        assertThat(ack.getCode()).as(ack.getMessage()).isEqualTo(expected);
        return c;
    }

    /** The go_away a replaced connection gets, then its close. */
    private static GoAway replaced(TestClient c) throws Exception {
        ServerFrame frame = c.next();
        assertThat(frame.hasGoAway()).as("%s", frame).isTrue();
        assertThat(c.awaitClosed(5_000)).isTrue();
        return frame.getGoAway();
    }

    private static void served(TestClient c, long seq) throws Exception {
        c.send(TestClient.request(seq, TestTopology.READ, "x"));
        assertThat(c.next().getResponse().getCode()).isEqualTo(Code.OK);
    }

    @Test
    void aLoginFromTheSameDeviceReplacesTheOlderConnectionAndTellsItWhy() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(sz, sh, "sessions:\n  max-per-user: 3\n  when-full: reject-new\n");
             TestClient phone = login(gateway, 42, "phone-1", Code.OK);
             TestClient tablet = login(gateway, 42, "tablet-1", Code.OK)) {
            try (TestClient phoneAgain = login(gateway, 42, "phone-1", Code.OK)) {
                GoAway why = replaced(phone);
                assertThat(why.getCode()).isEqualTo(Code.SESSION_REPLACED);
                assertThat(why.getReason()).isEqualTo("replaced by a newer login from the same device");
                assertThat(why.getAlternatesList()).isEmpty();
                served(phoneAgain, 1);
                served(tablet, 2);
                assertThat(gateway.context().sessionsOf(42)).extracting(io.cellgate.server.internal.GatewayContext.SessionInfo::deviceId)
                        .containsExactly("tablet-1", "phone-1");
                assertThat(gateway.context().counters().sessionsReplaced()).isEqualTo(1);
            }
            // A closed connection leaves the index.
            Await.until("the replacing connection's close", () -> gateway.context().sessionsOf(42).size() == 1);
        }
    }

    @Test
    void pastTheLimitRejectNewKeepsTheOldConnections() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(sz, sh, "sessions:\n  max-per-user: 2\n  when-full: reject-new\n");
             TestClient a = login(gateway, 7, "a", Code.OK);
             TestClient b = login(gateway, 7, "b", Code.OK)) {
            try (TestClient c = new TestClient(gateway.port())) {
                c.send(ClientFrame.newBuilder().setLogin(Login.newBuilder().setUid(7).setToken(TestTopology.token(7)).setDeviceId("c"))
                        .build());
                LoginAck refused = c.next().getLoginAck();
                assertThat(refused.getCode()).isEqualTo(Code.TOO_MANY_SESSIONS);
                assertThat(refused.getMessage()).contains("already holds 2 connections").contains("sessions.max-per-user");
                assertThat(c.awaitClosed(5_000)).isTrue();
            }
            served(a, 1);
            served(b, 2);
            // Another user is not affected, and a device that reconnects still replaces itself under reject-new.
            try (TestClient other = login(gateway, 8, "a", Code.OK); TestClient bAgain = login(gateway, 7, "b", Code.OK)) {
                served(other, 3);
                assertThat(replaced(b).getCode()).isEqualTo(Code.SESSION_REPLACED);
                served(bAgain, 4);
                served(a, 5);
            }
            assertThat(gateway.context().counters().loginsOverSessionLimit()).isEqualTo(1);
        }
    }

    @Test
    void pastTheLimitKickOldClosesTheOldestAfterItsCallsAreAnswered() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(sz, sh, "sessions:\n  max-per-user: 2\n  when-full: kick-old\n");
             TestClient oldest = login(gateway, 9, "", Code.OK);
             TestClient middle = login(gateway, 9, "", Code.OK)) {
            // A call in flight on the oldest connection when it is replaced is still answered.
            sz.delayEcho(300);
            sh.delayEcho(300);
            oldest.send(TestClient.request(1, TestTopology.READ, "slow"));
            Await.until("the call in flight", () -> gateway.context().counters().inFlight() == 1);
            try (TestClient newest = login(gateway, 9, "", Code.OK)) {
                ServerFrame first = oldest.next();
                ServerFrame second = oldest.next();
                ServerFrame goAway = first.hasGoAway() ? first : second;
                ServerFrame response = first.hasGoAway() ? second : first;
                assertThat(goAway.getGoAway().getCode()).isEqualTo(Code.SESSION_REPLACED);
                assertThat(goAway.getGoAway().getReason()).isEqualTo("replaced by a newer login of this user (at most 2 connections per user)");
                assertThat(response.getResponse().getSeq()).isEqualTo(1);
                assertThat(response.getResponse().getCode()).isEqualTo(Code.OK);
                assertThat(oldest.awaitClosed(5_000)).isTrue();
                sz.delayEcho(0);
                sh.delayEcho(0);
                served(middle, 2);
                served(newest, 3);
            }
        }
    }

    @Test
    void theOperatorListsAndKicksAUsersConnections() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(sz, sh, "sessions:\n  max-per-user: 0\n");
             TestClient a = login(gateway, 11, "", Code.OK);
             TestClient b = login(gateway, 11, "", Code.OK);
             TestClient other = login(gateway, 12, "", Code.OK)) {
            assertThat(gateway.context().sessionsOf(11)).hasSize(2);
            assertThat(gateway.context().kickUser(11, 1_000)).isEqualTo(2);
            for (TestClient c : new TestClient[] {a, b}) {
                GoAway goAway = c.next().getGoAway();
                assertThat(goAway.getCode()).isEqualTo(Code.SHUTTING_DOWN);
                assertThat(goAway.getReason()).isEqualTo("kicked by an operator");
                assertThat(goAway.getReconnectAfterMs()).isEqualTo(1_000);
                assertThat(c.awaitClosed(5_000)).isTrue();
            }
            served(other, 1);
            Await.until("the kicked connections' close", () -> gateway.context().sessionsOf(11).isEmpty());
            assertThat(gateway.context().kickUser(11, 0)).isZero();
        }
    }
}
