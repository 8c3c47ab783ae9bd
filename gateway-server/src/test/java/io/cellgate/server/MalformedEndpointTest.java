package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cellgate.protocol.admin.v1.AdminGrpc;
import io.cellgate.protocol.admin.v1.ApplyRoutesRequest;
import io.cellgate.protocol.admin.v1.RouteChangeMsg;
import io.cellgate.protocol.admin.v1.SetEndpointsChange;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.server.fleet.EndpointRegistration;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.EtcdProcess;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A malformed AO endpoint is refused wherever it enters: the admin API, the endpoints file and the
 * fleet registry. Nothing is stored, the routes keep their epoch, and requests keep being served.
 */
@StartsProcesses
class MalformedEndpointTest {
    private static final String ADMIN_TOKEN = "admin-token-of-at-least-16-bytes";
    /** A letter O for a zero in the port, a port out of range, a host that is not one. */
    private static final List<String> BAD = List.of("10.0.0.1:71O1", "10.0.0.1:70000", "10.0.0.1:0", "10.0.0.300:7101",
            "bad_host:7101", "[::1:7101", "10.0.0.1", "10.0.0.1: 7101");

    private static ServerFrame read(GatewayServer gateway, long seq) throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(6, TestTopology.token(6));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.send(TestClient.request(seq, TestTopology.READ, "m"));
            return client.next();
        }
    }

    @Test
    void theAdminApiRefusesItWithTheValueAndKeepsServing() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address())
                    .section("admin:\n  listen: 127.0.0.1:0\n  token-env: ADMIN_TOKEN\n").build();
            GatewayConfig config = GatewayConfig.parse(yaml, Path.of("."), Map.of("ADMIN_TOKEN", ADMIN_TOKEN)::get);
            try (GatewayServer gateway = GatewayServer.start(config)) {
                ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.adminPort()).usePlaintext().build();
                try {
                    Metadata headers = new Metadata();
                    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + ADMIN_TOKEN);
                    AdminGrpc.AdminBlockingStub admin = AdminGrpc.newBlockingStub(channel)
                            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
                    long epoch = gateway.routes().current().epoch();
                    for (String bad : BAD) {
                        ApplyRoutesRequest request = ApplyRoutesRequest.newBuilder().addChanges(RouteChangeMsg.newBuilder()
                                .setSetEndpoints(SetEndpointsChange.newBuilder().setSet("sz-a").addEndpoints(sz.address()).addEndpoints(bad)))
                                .build();
                        assertThatThrownBy(() -> admin.withDeadlineAfter(5, TimeUnit.SECONDS).applyRoutes(request))
                                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                                    assertThat(e.getStatus().getDescription()).contains("sz-a").contains(bad);
                                });
                    }
                    assertThat(gateway.routes().current().epoch()).isEqualTo(epoch);
                    assertThat(gateway.routes().current().set(0).endpoints()).containsExactly(sz.address());
                    assertThat(read(gateway, 1).getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|m");

                    // A valid change right after is taken: nothing was left half-applied.
                    admin.withDeadlineAfter(5, TimeUnit.SECONDS).applyRoutes(ApplyRoutesRequest.newBuilder().addChanges(
                            RouteChangeMsg.newBuilder().setSetState(io.cellgate.protocol.admin.v1.SetStateChange.newBuilder()
                                    .setSet("sh-a").setState("DRAINING"))).build());
                    assertThat(gateway.routes().current().epoch()).isEqualTo(epoch + 1);
                } finally {
                    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void theEndpointsFileVersionIsRefusedAndTheKnownEndpointsServe(@TempDir Path dir) throws Exception {
        Path endpoints = dir.resolve("endpoints.yaml");
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).storeDir(dir.resolve("routes"))
                    .section("discovery:\n  endpoints-file: " + endpoints + "\n  poll: 50ms\n").build();
            Files.writeString(endpoints, "sets:\n  sz-a: [" + sz.address() + "]\n");
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null))) {
                Await.until("the endpoints file read", () -> !gateway.discovery().stale());
                long epoch = gateway.routes().current().epoch();
                for (String bad : BAD) {
                    Files.writeString(endpoints, "sets:\n  sz-a: [" + sz.address() + ", '" + bad + "']\n");
                    Await.until("the file with " + bad + " refused", () -> gateway.discovery().stale());
                    assertThat(gateway.routes().current().epoch()).isEqualTo(epoch);
                    assertThat(gateway.routes().current().set(0).endpoints()).containsExactly(sz.address());
                    assertThat(read(gateway, 2).getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|m");
                    Files.writeString(endpoints, "sets:\n  sz-a: [" + sz.address() + "]\n");
                    Await.until("the good file current again", () -> !gateway.discovery().stale());
                }
            }
        }
    }

    @Test
    void aBadRegistrationIsIgnoredAndTheSetsOtherEndpointsStillChange(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sz2 = new TestAo("sz-a");
             TestAo sh = new TestAo("sh-a")) {
            try (GatewayServer gateway = FleetTest.start(etcd, dir, "g", sz.address(), sh.address());
                 Client client = Client.builder().endpoints(etcd.url()).build()) {
                for (String bad : BAD) {
                    if (bad.indexOf('/') < 0) {
                        client.getKVClient().put(ByteSequence.from(FleetTest.PREFIX + "endpoints/sz-a/" + bad, StandardCharsets.UTF_8),
                                ByteSequence.from("{}", StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
                    }
                }
                // A good registration after the bad ones is applied, alone: the bad ones neither block it nor join it.
                try (EndpointRegistration reg = new EndpointRegistration(List.of(etcd.url()), FleetTest.PREFIX, "sz-a",
                        sz2.address(), Duration.ofSeconds(3))) {
                    Await.until("the registered endpoint routed", () ->
                            gateway.routing().set(0).endpoints().equals(List.of(sz2.address())));
                    assertThat(read(gateway, 3).getResponse().getCode()).isEqualTo(Code.OK);
                    // Restarted, the gateway boots from etcd and its copy: the bad keys are still there and still refused.
                    gateway.close();
                    try (GatewayServer again = FleetTest.start(etcd, dir, "g", sz.address(), sh.address())) {
                        Await.until("the registered endpoint routed after a restart", () ->
                                again.routing().set(0).endpoints().equals(List.of(sz2.address())));
                        assertThat(read(again, 4).getResponse().getCode()).isEqualTo(Code.OK);
                    }
                }
            }
        }
    }
}
