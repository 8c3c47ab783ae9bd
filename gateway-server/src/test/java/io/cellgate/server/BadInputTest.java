package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile and broken clients: each gets a defined code or a close, and the gateway keeps serving
 * everyone else. Short login and heartbeat timeouts keep the test quick.
 */
class BadInputTest {
    private static TestAo ao;
    private GatewayServer gateway;

    @BeforeAll
    static void startAo() throws Exception {
        ao = new TestAo("sz-a");
    }

    @AfterAll
    static void stopAo() throws Exception {
        ao.close();
    }

    @BeforeEach
    void startGateway() throws InterruptedException {
        GatewayConfig config = GatewayConfig.parse(
                TestTopology.yaml(ao.address(), ao.address(), "per-event-loop", "300ms", "200ms"), Path.of("."), name -> null);
        gateway = GatewayServer.start(config);
    }

    @AfterEach
    void stopGateway() throws Exception {
        // Whatever a bad client did, a good one is still served.
        try (TestClient good = new TestClient(gateway.port())) {
            good.login(1, TestTopology.token(1));
            assertThat(good.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            good.send(TestClient.request(1, TestTopology.READ, "ok"));
            assertThat(good.next().getResponse().getCode()).isEqualTo(Code.OK);
        }
        gateway.close();
    }

    @Test
    void wrongTokenIsRefusedAndClosed() throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(42, TestTopology.token(43));
            ServerFrame ack = client.next();
            assertThat(ack.getLoginAck().getCode()).isEqualTo(Code.UNAUTHENTICATED);
            assertThat(ack.getLoginAck().getMessage()).contains("WRONG_UID");
            assertThat(client.awaitClosed(2_000)).isTrue();
        }
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(42, "v1.42.99999999999.forged");
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.UNAUTHENTICATED);
            assertThat(client.awaitClosed(2_000)).isTrue();
        }
    }

    @Test
    void noLoginWithinTheTimeoutIsClosedWithGoAway() throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            ServerFrame frame = client.next();
            assertThat(frame.getGoAway().getCode()).isEqualTo(Code.UNAUTHENTICATED);
            assertThat(frame.getGoAway().getReason()).isEqualTo("no login within 300 ms");
            assertThat(client.awaitClosed(2_000)).isTrue();
        }
    }

    @Test
    void oversizedFrameIsRefusedBeforeItsBodyArrives() throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            // A varint length of 1 MiB (over the 64 KiB limit), and no body at all.
            client.sendRaw(new byte[] {(byte) 0x80, (byte) 0x80, 0x40});
            ServerFrame frame = client.next();
            assertThat(frame.getGoAway().getCode()).isEqualTo(Code.BAD_FRAME);
            assertThat(frame.getGoAway().getReason()).isEqualTo("frame length 1048576 exceeds the limit of 8192 bytes before login");
            assertThat(client.awaitClosed(2_000)).isTrue();
        }
        // After the login the full limit (limits.max-frame-bytes) applies.
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(8, TestTopology.token(8));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.sendRaw(new byte[] {(byte) 0x80, (byte) 0x80, 0x40});
            ServerFrame frame = client.next();
            assertThat(frame.getGoAway().getReason()).isEqualTo("frame length 1048576 exceeds the limit of 65536 bytes");
            assertThat(client.awaitClosed(2_000)).isTrue();
        }
    }

    @Test
    void randomBytesAreABadFrameAndAClose() throws Exception {
        Random random = new Random(7);
        for (int round = 0; round < 20; round++) {
            byte[] garbage = new byte[1 + random.nextInt(200)];
            random.nextBytes(garbage);
            try (TestClient client = new TestClient(gateway.port())) {
                client.sendRaw(garbage);
                // Either a BAD_FRAME go_away and a close, or (a length prefix asking for more bytes
                // than were sent) the login deadline's go_away and a close.
                ServerFrame frame = client.next();
                assertThat(frame.getGoAway().getCode()).isIn(Code.BAD_FRAME, Code.UNAUTHENTICATED);
                assertThat(client.awaitClosed(2_000)).isTrue();
            }
        }
    }

    @Test
    void malformedVarintAndEmptyFrameAreBadFrames() throws Exception {
        for (byte[] bytes : new byte[][] {
                {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01}, // varint over 32 bits
                {0x00}, // length 0: a frame of no kind
                {0x02, 0x7A, 0x00}}) { // field 15, an unknown kind
            try (TestClient client = new TestClient(gateway.port())) {
                client.sendRaw(bytes);
                assertThat(client.next().getGoAway().getCode()).isEqualTo(Code.BAD_FRAME);
                assertThat(client.awaitClosed(2_000)).isTrue();
            }
        }
    }

    /** A corpus of hand-made bad input, each with the answer it must get. */
    @Test
    void aCorpusOfHandMadeBadInputGetsDefinedAnswers() throws Exception {
        // A request before the login: answered UNAUTHENTICATED, the connection stays for the login.
        try (TestClient client = new TestClient(gateway.port())) {
            client.send(TestClient.request(5, TestTopology.READ, "too early"));
            ServerFrame early = client.next();
            assertThat(early.getResponse().getSeq()).isEqualTo(5);
            assertThat(early.getResponse().getCode()).isEqualTo(Code.UNAUTHENTICATED);
            client.login(3, TestTopology.token(3));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
        }
        // A valid frame followed by garbage in the same write: the frame is served, the garbage closes.
        try (TestClient client = new TestClient(gateway.port())) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            io.cellgate.protocol.v1.ClientFrame.newBuilder().setLogin(io.cellgate.protocol.v1.Login.newBuilder().setUid(3)
                    .setToken(TestTopology.token(3))).build().writeDelimitedTo(bytes);
            bytes.write(new byte[] {0x03, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
            client.sendRaw(bytes.toByteArray());
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            assertThat(client.next().getGoAway().getCode()).isEqualTo(Code.BAD_FRAME);
            assertThat(client.awaitClosed(2_000)).isTrue();
        }
        // The largest seq there is, and a body of arbitrary bytes (passed through, never parsed).
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(3, TestTopology.token(3));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.send(io.cellgate.protocol.v1.ClientFrame.newBuilder().setRequest(io.cellgate.protocol.v1.Request.newBuilder()
                    .setSeq(-1L).setCmd(TestTopology.READ).setBody(com.google.protobuf.ByteString.copyFrom(new byte[] {0, -1, 0x7F, -128})))
                    .build());
            ServerFrame answer = client.next();
            assertThat(answer.getResponse().getSeq()).isEqualTo(-1L);
            assertThat(answer.getResponse().getCode()).isEqualTo(Code.OK);
        }
        // Nested garbage: a request field whose content is not a Request.
        for (byte[] bytes : new byte[][] {
                {0x04, 0x12, 0x02, (byte) 0xFF, (byte) 0xFF},   // request = {bytes that are no valid field}
                {0x03, 0x12, 0x05, 0x08},                        // request claims 5 bytes, the frame holds 1
                {0x02, 0x0F, 0x00}}) {                           // field 1 with wire type 7 (invalid)
            try (TestClient client = new TestClient(gateway.port())) {
                client.login(3, TestTopology.token(3));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                client.sendRaw(bytes);
                assertThat(client.next().getGoAway().getCode()).as(java.util.Arrays.toString(bytes)).isEqualTo(Code.BAD_FRAME);
                assertThat(client.awaitClosed(2_000)).isTrue();
            }
        }
    }

    @Test
    void frameCutInHalfThenSilenceIsClosedByTheTimeouts() throws Exception {
        byte[] whole = TestClient.request(1, TestTopology.READ, "half a frame").toByteArray();
        byte[] delimited = new byte[whole.length + 1];
        delimited[0] = (byte) whole.length;
        System.arraycopy(whole, 0, delimited, 1, whole.length);
        byte[] half = java.util.Arrays.copyOf(delimited, delimited.length / 2);

        // Before login: the login deadline closes it.
        try (TestClient client = new TestClient(gateway.port())) {
            client.sendRaw(half);
            assertThat(client.next().getGoAway().getCode()).isEqualTo(Code.UNAUTHENTICATED);
            assertThat(client.awaitClosed(2_000)).isTrue();
        }
        // After login: three silent heartbeat intervals close it.
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(8, TestTopology.token(8));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.sendRaw(half);
            ServerFrame frame = client.next();
            assertThat(frame.getGoAway().getReason()).startsWith("idle");
            assertThat(client.awaitClosed(2_000)).isTrue();
        }
    }

    @Test
    void secondLoginIsRefusedAndPingsArePonged() throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(9, TestTopology.token(9));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.login(9, TestTopology.token(9));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.INVALID_REQUEST);
            client.send(ClientFrame.newBuilder().setPing(io.cellgate.protocol.v1.Ping.newBuilder().setNonce(1234)).build());
            assertThat(client.next().getPong().getNonce()).isEqualTo(1234);
            assertThat(client.isClosed()).isFalse();
        }
    }
}
