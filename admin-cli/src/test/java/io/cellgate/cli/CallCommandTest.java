package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.testkit.TestTopology;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gatewayctl call}: one request through the client port, as a client sends it. */
class CallCommandTest {
    @Test
    void oneRequestFromAShellIsAnsweredWithItsCodeAndBody(@TempDir Path dir) throws Exception {
        try (AdminFixture f = new AdminFixture(dir)) {
            Path secret = Files.writeString(dir.resolve("token-secret"), TestTopology.SECRET);
            String client = "127.0.0.1:" + f.gateway.port();
            long uid = TestTopology.uidInSlots(500, 0, 8191);

            AdminFixture.Run ok = f.ctl("call", "--client", client, "--uid", Long.toString(uid), "--cmd", "1", "--body", "hello",
                    "--secret-file", secret.toString());
            assertThat(ok.exit()).as(ok.err()).isZero();
            assertThat(ok.out().lines()).containsExactly("OK", "sz-a|hello");

            AdminFixture.Run hex = f.ctl("call", "--client", client, "--uid", Long.toString(uid), "--cmd", "1", "--body-hex", "00ff",
                    "--secret-file", secret.toString());
            assertThat(hex.exit()).isZero();
            assertThat(hex.out().lines()).containsExactly("OK", "737a2d617c00ff"); // "sz-a|" then the two bytes

            AdminFixture.Run unknown = f.ctl("call", "--client", client, "--uid", Long.toString(uid), "--cmd", "999",
                    "--secret-file", secret.toString());
            assertThat(unknown.exit()).isEqualTo(1);
            assertThat(unknown.out()).startsWith("UNKNOWN_COMMAND");

            Path badToken = Files.writeString(dir.resolve("token"), TestTopology.token(uid + 1));
            AdminFixture.Run refused = f.ctl("call", "--client", client, "--uid", Long.toString(uid), "--cmd", "1",
                    "--token-file", badToken.toString());
            assertThat(refused.exit()).isEqualTo(4);
            assertThat(refused.err()).contains("login refused: UNAUTHENTICATED");

            AdminFixture.Run nobody = f.ctl("call", "--client", "127.0.0.1:1", "--uid", "1", "--cmd", "1", "--timeout", "2",
                    "--secret-file", secret.toString());
            assertThat(nobody.exit()).isEqualTo(3);
        }
    }
}
