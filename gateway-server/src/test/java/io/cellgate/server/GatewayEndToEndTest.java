package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.Metadata;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The whole request path over real sockets: client, gateway, gRPC, two AO sets in two cities. */
class GatewayEndToEndTest {
    private static TestAo shenzhen;
    private static TestAo shanghai;

    @BeforeAll
    static void startAos() throws Exception {
        shenzhen = new TestAo("sz-a");
        shanghai = new TestAo("sh-a");
    }

    @AfterAll
    static void stopAos() throws Exception {
        shenzhen.close();
        shanghai.close();
    }

    private static GatewayServer gateway(String mode) throws InterruptedException {
        return GatewayServer.start(parse(GatewayYaml.testTopology(shenzhen.address(), shanghai.address()).channelMode(mode)));
    }

    private static io.cellgate.server.config.GatewayConfig parse(GatewayYaml yaml) {
        return io.cellgate.server.config.GatewayConfig.parse(yaml.build(), java.nio.file.Path.of("."), name -> null);
    }

    private static String text(ServerFrame frame) {
        return frame.getResponse().getBody().toStringUtf8();
    }

    @ParameterizedTest
    @ValueSource(strings = {"per-event-loop", "shared", "lean"})
    void readGoesToTheLocalCityAndWriteToTheWritePointInTheOtherCity(String mode) throws Exception {
        long uid = TestTopology.uidInSlots(1000, 8192, 16383); // write point: sh-a, in city sh
        try (GatewayServer gateway = gateway(mode); TestClient client = new TestClient(gateway.port())) {
            client.login(uid, TestTopology.token(uid));
            ServerFrame ack = client.next();
            assertThat(ack.getLoginAck().getCode()).isEqualTo(Code.OK);
            assertThat(ack.getLoginAck().getSessionId()).isNotEmpty();
            assertThat(ack.getLoginAck().getHeartbeatIntervalMs()).isEqualTo(30_000);

            shenzhen.clearHeaders();
            shanghai.clearHeaders();
            client.send(TestClient.request(1, TestTopology.READ, "r"));
            ServerFrame read = client.next();
            assertThat(read.getResponse().getCode()).isEqualTo(Code.OK);
            assertThat(read.getResponse().getSeq()).isEqualTo(1);
            assertThat(text(read)).isEqualTo("sz-a|r");
            Metadata readHeaders = shenzhen.nextHeaders();
            assertThat(readHeaders.get(key("x-cellgate-uid"))).isEqualTo(Long.toString(uid));
            assertThat(readHeaders.get(key("x-cellgate-cmd"))).isEqualTo("1");
            assertThat(readHeaders.get(key("x-cellgate-set"))).isEqualTo("sz-a");
            assertThat(readHeaders.get(key("x-cellgate-route-epoch"))).isEqualTo("1");
            assertThat(readHeaders.get(key("x-cellgate-trace-id"))).isEqualTo(ack.getLoginAck().getSessionId() + "-1");

            client.send(TestClient.request(2, TestTopology.WRITE, "w"));
            ServerFrame write = client.next();
            assertThat(write.getResponse().getCode()).isEqualTo(Code.OK);
            assertThat(text(write)).isEqualTo("sh-a|w");
            assertThat(shanghai.nextHeaders().get(key("x-cellgate-set"))).isEqualTo("sh-a");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"per-event-loop", "shared", "lean"})
    void thousandPipelinedRequestsOnOneConnectionAreAllAnsweredAndMatchedBySeq(String mode) throws Exception {
        long uid = TestTopology.uidInSlots(5000, 0, 8191); // write point: sz-a
        try (GatewayServer gateway = gateway(mode); TestClient client = new TestClient(gateway.port())) {
            client.login(uid, TestTopology.token(uid));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            for (int seq = 1; seq <= 1000; seq++) {
                int cmd = seq % 2 == 0 ? TestTopology.WRITE : TestTopology.READ;
                client.sendNoFlush(TestClient.request(seq, cmd, "seq-" + seq));
            }
            client.flush();
            Set<Long> answered = new HashSet<>();
            for (int i = 0; i < 1000; i++) {
                ServerFrame frame = client.next();
                assertThat(frame.getResponse().getCode()).isEqualTo(Code.OK);
                long seq = frame.getResponse().getSeq();
                assertThat(text(frame)).isEqualTo("sz-a|seq-" + seq);
                assertThat(answered.add(seq)).as("seq %d answered once", seq).isTrue();
            }
            assertThat(answered).hasSize(1000).allMatch(seq -> seq >= 1 && seq <= 1000);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"per-event-loop", "lean"})
    void refusalsAndUpstreamFailuresGetTheirCodesAndTheConnectionStaysUsable(String mode) throws Exception {
        long uid = 77;
        try (GatewayServer gateway = gateway(mode); TestClient client = new TestClient(gateway.port())) {
            client.send(TestClient.request(9, TestTopology.READ, "early"));
            assertThat(client.next().getResponse()).satisfies(r -> {
                assertThat(r.getSeq()).isEqualTo(9);
                assertThat(r.getCode()).isEqualTo(Code.UNAUTHENTICATED);
            });
            client.login(uid, TestTopology.token(uid));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);

            client.send(TestClient.request(10, 999, "x"));
            assertThat(client.next().getResponse().getCode()).isEqualTo(Code.UNKNOWN_COMMAND);

            client.send(TestClient.request(11, TestTopology.LIMITED, "a"));
            client.send(TestClient.request(12, TestTopology.LIMITED, "b"));
            assertThat(codes(client, 2)).containsExactlyInAnyOrder(Code.OK, Code.RATE_LIMITED);

            client.send(TestClient.request(13, TestTopology.FAILING, "x"));
            ServerFrame failed = client.next();
            assertThat(failed.getResponse().getCode()).isEqualTo(Code.UPSTREAM_ERROR);
            assertThat(failed.getResponse().getMessage()).contains("INTERNAL").contains("fails on purpose");

            client.send(TestClient.request(14, TestTopology.SLOW, "x"));
            assertThat(client.next().getResponse().getCode()).isEqualTo(Code.UPSTREAM_TIMEOUT);

            client.send(TestClient.request(15, TestTopology.READ, "still here"));
            assertThat(text(client.next())).isEqualTo("sz-a|still here");
            assertThat(client.isClosed()).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"per-event-loop", "lean"})
    void anUnreachableAoIsAnsweredUpstreamUnavailable(String mode) throws Exception {
        String closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = "127.0.0.1:" + s.getLocalPort();
        }
        try (GatewayServer gateway = GatewayServer.start(parse(GatewayYaml.testTopology(closedPort, shanghai.address()).channelMode(mode)));
             TestClient client = new TestClient(gateway.port())) {
            long uid = TestTopology.uidInSlots(0, 0, 8191); // write point sz-a: unreachable
            client.login(uid, TestTopology.token(uid));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            // A write is never retried: the unreachable write point is the answer.
            client.send(TestClient.request(1, TestTopology.WRITE, "x"));
            ServerFrame write = client.next();
            assertThat(write.getResponse().getCode()).isEqualTo(Code.UPSTREAM_UNAVAILABLE);
            assertThat(write.getResponse().getMessage()).contains(closedPort).contains("UNAVAILABLE");
            // A read is idempotent: retried once on the other city's set.
            client.send(TestClient.request(2, TestTopology.READ, "x"));
            assertThat(text(client.next())).isEqualTo("sh-a|x");
        }
    }

    private static List<Code> codes(TestClient client, int n) throws InterruptedException {
        List<Code> codes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            codes.add(client.next().getResponse().getCode());
        }
        return codes;
    }

    private static Metadata.Key<String> key(String name) {
        return Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
    }
}
