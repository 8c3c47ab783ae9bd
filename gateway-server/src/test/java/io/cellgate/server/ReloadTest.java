package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.server.testing.TestAo;
import io.cellgate.server.testing.TestClient;
import io.cellgate.server.testing.TestTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGHUP reloads gatewayd's configuration file; a broken one is refused and the old one keeps serving. */
class ReloadTest {

    private static void awaitLog(Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("gatewayd never logged '" + text + "'; log:\n" + Files.readString(log));
    }

    private static void hup(Process p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    @Test
    void aBrokenConfigIsRefusedWithTheKeyAndAValidOneAppliesWithoutDroppingConnections(@TempDir Path dir) throws Exception {
        try (TestAo ao = new TestAo("sz-a")) {
            String yaml = TestTopology.yaml(ao.address(), ao.address(), "shared", "8s", "30s");
            Path config = dir.resolve("gateway.yaml");
            Path log = dir.resolve("gatewayd.log");
            Files.writeString(config, yaml, StandardCharsets.UTF_8);
            Process daemon = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    Gatewayd.class.getName(), "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                awaitLog(log, "gatewayd: listening on port ");
                String line = Files.readAllLines(log).stream().filter(l -> l.startsWith("gatewayd: listening on port ")).findFirst().orElseThrow();
                int port = Integer.parseInt(line.substring("gatewayd: listening on port ".length()).split(",")[0].trim());
                try (TestClient client = new TestClient(port)) {
                    client.login(3, TestTopology.token(3));
                    assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    client.send(TestClient.request(1, TestTopology.READ, "a"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);

                    Files.writeString(config, yaml.replace("max-frame-bytes: 65536", "max-frame-bytes: lots"));
                    hup(daemon);
                    awaitLog(log, "reload refused, the running configuration stays: limits.max-frame-bytes: lots (expected: an integer");
                    client.send(TestClient.request(2, TestTopology.READ, "b"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);

                    Files.writeString(config, yaml.replace("admission:\n", "admission:\n  degrade: P0\n"));
                    hup(daemon);
                    awaitLog(log, "reload: applied");
                    client.send(TestClient.request(3, TestTopology.READ, "c"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.SHED_OVERLOAD);
                    client.send(TestClient.request(4, TestTopology.WRITE, "d"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                    assertThat(client.isClosed()).isFalse();
                }
            } finally {
                daemon.destroy();
                if (!daemon.waitFor(10, TimeUnit.SECONDS)) {
                    daemon.destroyForcibly();
                }
            }
        }
    }
}
