package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gatewayd --check} as a process: the shipped configuration passes; broken ones fail with one line naming the key. */
@StartsProcesses
class ConfigCheckTest {
    private static final Path SHIPPED = Path.of("..", "conf", "gateway.yaml").toAbsolutePath().normalize();

    private record Outcome(int exit, String out, String err) {
    }

    private static Outcome check(Path config) throws Exception {
        return gatewayd("--check", "--config", config.toString());
    }

    private static Outcome gatewayd(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), Gatewayd.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(Map.of("CELLGATE_TOKEN_SECRET", "a-secret-of-at-least-16-bytes",
                "CELLGATE_ADMIN_TOKEN", "an-admin-token-of-16-bytes"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Outcome(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void theShippedConfigurationPassesAndBrokenOnesNameTheKey(@TempDir Path dir) throws Exception {
        Outcome version = gatewayd("--version");
        assertThat(version.exit()).isZero();
        assertThat(version.out().strip()).isEqualTo("gatewayd " + io.cellgate.protocol.Version.get()).doesNotContain("unknown");
        Outcome shipped = check(SHIPPED);
        assertThat(shipped.exit()).as(shipped.err()).isZero();
        assertThat(shipped.out()).startsWith("gatewayd: configuration " + SHIPPED + " is valid");

        String text = Files.readString(SHIPPED);
        Map<String, String[]> broken = Map.of(
                "gateway.city", new String[] {"  city: shenzhen\n", "  city: \n"},
                "listen.client", new String[] {"  client: ${CELLGATE_CLIENT_LISTEN:-0.0.0.0:9000}\n", "  client: 0.0.0.0:99999\n"},
                "admin.token-env", new String[] {"  token-env: CELLGATE_ADMIN_TOKEN\n", "  token-env: NO_SUCH_VARIABLE\n"},
                "drain.timeout", new String[] {"  timeout: 30s\n", "  timeout: soon\n"},
                "admission.color", new String[] {"admission:\n", "admission:\n  color: blue\n"},
                "${NO_SUCH_LISTEN}", new String[] {"  metrics: ${CELLGATE_METRICS_LISTEN:-127.0.0.1:9410}\n", "  metrics: ${NO_SUCH_LISTEN}\n"});
        for (Map.Entry<String, String[]> e : broken.entrySet()) {
            Path file = dir.resolve(e.getKey() + ".yaml");
            Files.writeString(file, TestTopology.edit(text, e.getValue()[0], e.getValue()[1]));
            Outcome outcome = check(file);
            assertThat(outcome.exit()).as(e.getKey() + ": " + outcome.out() + outcome.err()).isEqualTo(2);
            assertThat(outcome.err().strip().lines()).as(outcome.err()).hasSize(1);
            assertThat(outcome.err()).startsWith("gatewayd: invalid configuration " + file + ": ").contains(e.getKey());
        }
    }
}
