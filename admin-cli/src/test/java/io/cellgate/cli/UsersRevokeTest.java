package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gatewayctl users revoke / restore against a live gateway. */
@StartsProcesses
class UsersRevokeTest {
    @Test
    void aRevokedUserIsDisconnectedAndRefusedUntilRestored(@TempDir Path dir) throws Exception {
        try (AdminFixture fx = new AdminFixture(dir); TestClient held = new TestClient(fx.gateway.port())) {
            held.login(42, TestTopology.token(42));
            assertThat(held.next().getLoginAck().getCode()).isEqualTo(Code.OK);

            AdminFixture.Run bad = fx.ctl("users", "revoke", "42", "--for", "0s");
            assertThat(bad.exit()).isEqualTo(2);
            assertThat(bad.err()).contains("--for: 0s (expected: a positive duration)");

            AdminFixture.Run revoke = fx.ctl("users", "revoke", "42", "--for", "1h");
            assertThat(revoke.exit()).as(revoke.err()).isZero();
            assertThat(revoke.out()).contains("user 42: revoked until ");
            ServerFrame goAway = held.next();
            assertThat(goAway.getGoAway().getCode()).isEqualTo(Code.UNAUTHENTICATED);
            assertThat(goAway.getGoAway().getReason()).startsWith("revoked until ");
            assertThat(held.awaitClosed(10_000)).isTrue();
            try (TestClient again = new TestClient(fx.gateway.port())) {
                again.login(42, TestTopology.token(42));
                assertThat(again.next().getLoginAck().getMessage()).startsWith("revoked until ");
            }
            assertThat(fx.ctl("routes", "get").out()).contains("revoked users: 1");

            AdminFixture.Run restore = fx.ctl("users", "restore", "42");
            assertThat(restore.exit()).as(restore.err()).isZero();
            assertThat(restore.out()).contains("user 42: revocation lifted");
            try (TestClient again = new TestClient(fx.gateway.port())) {
                again.login(42, TestTopology.token(42));
                assertThat(again.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            }
        }
    }
}
