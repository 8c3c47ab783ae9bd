package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.LoginToken;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.LoginAck;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Login token keys rotate without a logout, tokens live no longer than allowed, and an expired session logs in again. */
class TokenLifecycleTest {
    private static final String K1 = "first-key-0123456789";
    private static final String K2 = "second-key-0123456789";

    private static GatewayConfig config(GatewayYaml yaml) {
        return GatewayConfig.parse(yaml.build(), Path.of("."), n -> null);
    }

    private static String token(String keyId, String secret, long uid, long lifetimeSeconds) {
        long now = System.currentTimeMillis() / 1000;
        return new LoginToken(null, Map.of(keyId, secret.getBytes(StandardCharsets.UTF_8)), 0).issue(keyId, uid, now, now + lifetimeSeconds);
    }

    private static LoginAck login(GatewayServer gateway, long uid, String token) throws Exception {
        try (TestClient c = new TestClient(gateway.port())) {
            c.login(uid, token);
            return c.next().getLoginAck();
        }
    }

    @Test
    void keysRotateWithoutALogoutAndTheOldKeyIsRefusedAfterTheOverlap() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            GatewayYaml before = GatewayYaml.testTopology(sz.address(), sh.address()).tokenKeys("k1", K1);
            try (GatewayServer gateway = GatewayServer.start(config(before))) {
                String old = token("k1", K1, 42, 3600);
                String fresh = token("k2", K2, 42, 3600);
                // A client that logged in with the old key stays through the whole rotation.
                try (TestClient held = new TestClient(gateway.port())) {
                    held.login(42, old);
                    assertThat(held.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    assertThat(login(gateway, 42, fresh).getMessage()).contains("UNKNOWN_KEY");

                    // The overlap: the new key signs, both verify (a reload, no restart).
                    gateway.reload(config(GatewayYaml.testTopology(sz.address(), sh.address()).tokenKeys("k2", K2, "k1", K1)));
                    assertThat(login(gateway, 42, old).getCode()).isEqualTo(Code.OK);
                    assertThat(login(gateway, 42, fresh).getCode()).isEqualTo(Code.OK);
                    // v1 tokens of the token-secret keep working beside the keys.
                    assertThat(login(gateway, 42, TestTopology.token(42)).getCode()).isEqualTo(Code.OK);

                    // After it: the old key is gone.
                    gateway.reload(config(GatewayYaml.testTopology(sz.address(), sh.address()).tokenKeys("k2", K2)));
                    LoginAck refused = login(gateway, 42, old);
                    assertThat(refused.getCode()).isEqualTo(Code.UNAUTHENTICATED);
                    assertThat(refused.getMessage()).isEqualTo("token refused: UNKNOWN_KEY");
                    assertThat(login(gateway, 42, fresh).getCode()).isEqualTo(Code.OK);

                    held.send(TestClient.request(1, TestTopology.READ, "still here"));
                    assertThat(held.next().getResponse().getCode()).isEqualTo(Code.OK);
                }
            }
        }
    }

    @Test
    void tokensLiveNoLongerThanAllowedAndAnExpiredSessionIsAskedToLogInAgain() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = GatewayServer.start(config(GatewayYaml.testTopology(sz.address(), sh.address())
                     .tokenKeys("k1", K1).maxTokenLifetime("1h").heartbeat("2s")))) {
            LoginAck tooLong = login(gateway, 7, token("k1", K1, 7, 7200));
            assertThat(tooLong.getCode()).isEqualTo(Code.UNAUTHENTICATED);
            assertThat(tooLong.getMessage()).isEqualTo("token refused: TOO_LONG");

            try (TestClient c = new TestClient(gateway.port())) {
                c.login(7, token("k1", K1, 7, 2));
                assertThat(c.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                c.send(TestClient.request(1, TestTopology.READ, "before"));
                assertThat(c.next().getResponse().getCode()).isEqualTo(Code.OK);
                // Within a sweep (half a second here) of the expiry: go_away asking for a new login, then the
                // close, well before the connection would count as idle (3 heartbeats: 6 s).
                ServerFrame f = c.poll(10_000);
                assertThat(f).as("a frame within 10 s").isNotNull();
                assertThat(f.getGoAway().getCode()).isEqualTo(Code.UNAUTHENTICATED);
                assertThat(f.getGoAway().getReason()).startsWith("token expired at ").endsWith("; log in again");
                assertThat(c.awaitClosed(10_000)).isTrue();
            }
            assertThat(gateway.context().counters().sessionsExpired()).isEqualTo(1);
        }
    }
}
