package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.LoginToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/** Runs gatewayctl as its own process, as an operator does. */
@StartsProcesses
class GatewayctlProcessTest {

    record Run(int exit, String out, String err) {
    }

    static Run gatewayctl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Gatewayctl.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        pb.environment().remove("CELLGATE_TOKEN_SECRET");
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), Files.readString(dir.resolve("out")), Files.readString(dir.resolve("err")));
    }

    @Test
    void tokenIssuePrintsATokenTheGatewayAccepts(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("token.secret");
        Files.writeString(secret, "a-secret-of-at-least-16-bytes\n");
        Run run = gatewayctl(dir, "token", "issue", "--uid", "42", "--secret-file", secret.toString(), "--ttl", "1h");
        assertThat(run.exit()).as(run.err()).isZero();
        String token = run.out().strip();
        LoginToken tokens = new LoginToken("a-secret-of-at-least-16-bytes".getBytes(StandardCharsets.UTF_8));
        long now = System.currentTimeMillis() / 1000;
        assertThat(tokens.verify(42, token, now)).isEqualTo(LoginToken.Verdict.OK);
        assertThat(tokens.verify(42, token, now + 3700)).isEqualTo(LoginToken.Verdict.EXPIRED);
    }

    @Test
    void errorsGoToStderrWithTheirExitCodes(@TempDir Path dir) throws Exception {
        Run noSecret = gatewayctl(dir, "token", "issue", "--uid", "42");
        assertThat(noSecret.exit()).isEqualTo(1);
        assertThat(noSecret.err()).contains("no token secret: set CELLGATE_TOKEN_SECRET or pass --secret-file FILE");

        Run badUid = gatewayctl(dir, "token", "issue", "--uid", "-5");
        assertThat(badUid.exit()).isEqualTo(2);
        assertThat(badUid.err()).contains("--uid: -5 (expected: an unsigned 64-bit integer)");

        Run help = gatewayctl(dir, "token", "issue", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--uid").contains("--secret-file");
    }
}
