package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cellgate.protocol.admin.v1.AdminGrpc;
import io.cellgate.protocol.admin.v1.StatusRequest;
import io.cellgate.protocol.v1.Code;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.GatewaydProcess;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/**
 * Secrets: the token secret comes from a file, the admin token from the environment; neither ever
 * appears in the daemon's output, whatever clients and operators get wrong; the admin API refuses a
 * call without the token or with a wrong one, and listens on loopback unless told otherwise.
 */
@StartsProcesses
class SecretsTest {
    static final String TOKEN_SECRET = "file-secret-0123456789abcdef";
    static final String ADMIN_TOKEN = "env-admin-token-0123456789";

    @Test
    void secretsComeFromFilesOrEnvironmentAndAreNeverLogged(@TempDir Path dir) throws Exception {
        try (TestAo ao = new TestAo("sz-a")) {
            Files.writeString(dir.resolve("token.secret"), TOKEN_SECRET + "\n");
            String yaml = GatewayYaml.testTopology(ao.address(), ao.address()).tokenSecretFile("token.secret")
                    .section("admin:\n  listen: 127.0.0.1:0\n  token-env: TEST_ADMIN_TOKEN\n").build();
            Path config = dir.resolve("gateway.yaml");
            Files.writeString(config, yaml);
            Path log = dir.resolve("gatewayd.log");
            try (GatewaydProcess daemon = GatewaydProcess.start(config, log, 0, Map.of("TEST_ADMIN_TOKEN", ADMIN_TOKEN))) {
                int port = daemon.port();
                int adminPort = daemon.port("admin");

                // Clients: a good login (token made with the file's secret), a forged one.
                try (TestClient good = new TestClient(port); TestClient forged = new TestClient(port)) {
                    String token = new io.cellgate.protocol.LoginToken(TOKEN_SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                            .issue(5, System.currentTimeMillis() / 1000 + 600);
                    good.login(5, token);
                    assertThat(good.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    forged.login(5, TestTopology.token(5));
                    assertThat(forged.next().getLoginAck().getCode()).isEqualTo(Code.UNAUTHENTICATED);
                }
                // Operators: no token, a wrong token, the right one.
                ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort).usePlaintext().build();
                try {
                    AdminGrpc.AdminBlockingStub bare = AdminGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
                    assertThatThrownBy(() -> bare.status(StatusRequest.getDefaultInstance()))
                            .isInstanceOfSatisfying(StatusRuntimeException.class,
                                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
                    assertThatThrownBy(() -> withToken(channel, "wrong-token-0123456789").status(StatusRequest.getDefaultInstance()))
                            .isInstanceOfSatisfying(StatusRuntimeException.class,
                                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
                    assertThat(withToken(channel, ADMIN_TOKEN).status(StatusRequest.getDefaultInstance()).getReady()).isTrue();
                } finally {
                    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
            }
            // Stopped (close): its output now includes what it printed while shutting down.
            String output = Files.readString(log);
            assertThat(output).contains("gatewayd: listening on port");
            assertThat(output).doesNotContain(TOKEN_SECRET).doesNotContain(ADMIN_TOKEN);
        }
    }

    @Test
    void theShippedAdminApiListensOnLoopbackAndNeedsItsToken() throws Exception {
        Path file = Path.of("..", "conf", "gateway.yaml").toAbsolutePath().normalize();
        GatewayConfig shipped = GatewayConfig.parse(Files.readString(file), file.getParent(), Map.of("CELLGATE_TOKEN_SECRET",
                "a-secret-of-at-least-16-bytes", "CELLGATE_ADMIN_TOKEN", "an-admin-token-of-16-bytes")::get);
        assertThat(shipped.adminHost()).isEqualTo("127.0.0.1");
        assertThat(shipped.metricsHost()).isEqualTo("127.0.0.1");
        assertThat(shipped.adminToken()).isNotNull();
        assertThat(shipped.toString()).doesNotContain("a-secret-of-at-least-16-bytes").doesNotContain("an-admin-token-of-16-bytes");
    }

    private static AdminGrpc.AdminBlockingStub withToken(ManagedChannel channel, String token) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return AdminGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(5, TimeUnit.SECONDS);
    }
}
