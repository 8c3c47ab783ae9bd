package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.Ping;
import io.cellgate.protocol.v1.PushGrpc;
import io.cellgate.protocol.v1.PushMessage;
import io.cellgate.protocol.v1.PushResult;
import io.cellgate.protocol.v1.PushToUsersRequest;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The WebSocket listener with the JDK's WebSocket client: the same frames, limits and pushes as TCP, and defined closes. */
class WebSocketTest {
    private static final String ORIGIN = "https://app.example.com";
    private static TestAo sz;
    private static TestAo sh;
    private static GatewayServer gateway;
    private static ManagedChannel pushChannel;

    @BeforeAll
    static void start() throws Exception {
        sz = new TestAo("sz-a");
        sh = new TestAo("sh-a");
        GatewayYaml yaml = GatewayYaml.testTopology(sz.address(), sh.address())
                .section("push:\n  listen: 127.0.0.1:0\n  token: push-token-0123456789\n")
                .listen("websocket", "127.0.0.1:0").listen("websocket-path", "/cellgate")
                .listen("websocket-origins", "[\"" + ORIGIN + "\"]");
        gateway = GatewayServer.start(GatewayConfig.parse(yaml.build(), Path.of("."), n -> null));
        pushChannel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.pushPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws Exception {
        pushChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        gateway.close();
        sz.close();
        sh.close();
    }

    /** A WebSocket client that queues every binary message as a ServerFrame, and the close. */
    private static final class WsClient implements WebSocket.Listener {
        final BlockingQueue<ServerFrame> frames = new LinkedBlockingQueue<>();
        final CompletableFuture<String> closed = new CompletableFuture<>();
        final BlockingQueue<Boolean> pongs = new LinkedBlockingQueue<>();
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        WebSocket socket;

        static WsClient open(String path, String origin) throws Exception {
            WsClient client = new WsClient();
            WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder();
            if (origin != null) {
                b.header("Origin", origin);
            }
            client.socket = b.buildAsync(URI.create("ws://127.0.0.1:" + gateway.webSocketPort() + path), client).get(5, TimeUnit.SECONDS);
            return client;
        }

        void send(ClientFrame frame) throws Exception {
            socket.sendBinary(ByteBuffer.wrap(frame.toByteArray()), true).get(5, TimeUnit.SECONDS);
        }

        ServerFrame next() throws InterruptedException {
            ServerFrame f = frames.poll(5, TimeUnit.SECONDS);
            assertThat(f).as("a frame within 5 s").isNotNull();
            return f;
        }

        /** "status reason" of the close. */
        String closeStatus() throws Exception {
            return closed.get(5, TimeUnit.SECONDS);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            partial.writeBytes(bytes);
            if (last) {
                try {
                    frames.add(ServerFrame.parseFrom(partial.toByteArray()));
                } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                    closed.completeExceptionally(e);
                }
                partial.reset();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
            pongs.add(true);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

    private static ClientFrame login(long uid, String token) {
        return ClientFrame.newBuilder().setLogin(Login.newBuilder().setUid(uid).setToken(token).setDevice("web")).build();
    }

    @Test
    void aBrowserClientLogsInIsServedAndReceivesPushes() throws Exception {
        WsClient ws = WsClient.open("/cellgate", ORIGIN);
        ws.send(login(42, TestTopology.token(42)));
        assertThat(ws.next().getLoginAck().getCode()).isEqualTo(Code.OK);
        ws.send(TestClient.request(1, TestTopology.READ, "over websocket"));
        assertThat(ws.next().getResponse().getCode()).isEqualTo(Code.OK);
        ws.send(ClientFrame.newBuilder().setPing(Ping.newBuilder().setNonce(9)).build());
        assertThat(ws.next().getPong().getNonce()).isEqualTo(9);
        ws.socket.sendPing(ByteBuffer.wrap(new byte[] {1})).get(5, TimeUnit.SECONDS);
        assertThat(ws.pongs.poll(5, TimeUnit.SECONDS)).isTrue();

        Metadata auth = new Metadata();
        auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer push-token-0123456789");
        PushResult result = PushGrpc.newBlockingStub(pushChannel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth))
                .pushToUsers(PushToUsersRequest.newBuilder().addUids(42).setMessage(PushMessage.newBuilder().setCmd(7)
                        .setBody(ByteString.copyFromUtf8("to the browser"))).build()).getResults(0).getResult();
        assertThat(result).isEqualTo(PushResult.SENT);
        assertThat(ws.next().getPush().getBody().toStringUtf8()).isEqualTo("to the browser");

        // The gateway's go_away becomes a close frame saying why: 4000 + the code.
        assertThat(gateway.context().kickUser(42, 0)).isEqualTo(1);
        assertThat(ws.next().getGoAway().getCode()).isEqualTo(Code.SHUTTING_DOWN);
        assertThat(ws.closeStatus()).isEqualTo("4013 kicked by an operator");
    }

    @Test
    void aRefusedTokenAndATextMessageGetDefinedCloses() throws Exception {
        WsClient refused = WsClient.open("/cellgate", null);
        refused.send(login(42, "v1.42.1.bad"));
        assertThat(refused.next().getLoginAck().getCode()).isEqualTo(Code.UNAUTHENTICATED);
        assertThat(refused.closeStatus()).startsWith("4002 token refused");

        WsClient text = WsClient.open("/cellgate", ORIGIN);
        text.socket.sendText("{\"login\": 1}", true).get(5, TimeUnit.SECONDS);
        assertThat(text.closeStatus()).isEqualTo("1003 binary messages only: one ClientFrame per message");

        WsClient garbage = WsClient.open("/cellgate", ORIGIN);
        garbage.socket.sendBinary(ByteBuffer.wrap(new byte[] {(byte) 0xff, 0x01}), true).get(5, TimeUnit.SECONDS);
        assertThat(garbage.next().getGoAway().getCode()).isEqualTo(Code.BAD_FRAME);
        assertThat(garbage.closeStatus()).startsWith("4001 frame is not a valid ClientFrame");

        WsClient big = WsClient.open("/cellgate", ORIGIN);
        big.socket.sendBinary(ByteBuffer.wrap(new byte[9_000]), true).get(5, TimeUnit.SECONDS);
        assertThat(big.next().getGoAway().getReason()).isEqualTo("frame length 9000 exceeds the limit of 8192 bytes before login");
        assertThat(big.closeStatus()).startsWith("4001 ");
    }

    @Test
    void wssServesTheSameFrames(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        io.cellgate.testkit.TestCertificates.selfSigned(dir, "gateway");
        String text = TestTopology.edit(GatewayYaml.testTopology(sz.address(), sh.address()).listen("websocket", "127.0.0.1:0").build(),
                "  websocket: 127.0.0.1:0\n", "  websocket: 127.0.0.1:0\n  websocket-tls:\n    cert-file: " + dir.resolve("cert.pem")
                        + "\n    key-file: " + dir.resolve("key.pem") + "\n");
        try (GatewayServer tls = GatewayServer.start(GatewayConfig.parse(text, Path.of("."), n -> null))) {
            java.security.KeyStore trust = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
            trust.load(null, null);
            try (java.io.InputStream in = java.nio.file.Files.newInputStream(dir.resolve("cert.pem"))) {
                trust.setCertificateEntry("gateway", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
            }
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            WsClient ws = new WsClient();
            ws.socket = HttpClient.newBuilder().sslContext(ssl).build().newWebSocketBuilder()
                    .buildAsync(URI.create("wss://127.0.0.1:" + tls.webSocketPort() + "/cellgate"), ws).get(10, TimeUnit.SECONDS);
            ws.send(login(43, TestTopology.token(43)));
            assertThat(ws.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            ws.send(TestClient.request(1, TestTopology.READ, "over wss"));
            assertThat(ws.next().getResponse().getCode()).isEqualTo(Code.OK);
            ws.socket.sendClose(1000, "bye").get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void anotherOriginOrPathIsRefusedBeforeTheUpgrade() {
        assertThat(refusedStatus("/cellgate", "https://evil.example.net")).isEqualTo(403);
        assertThat(refusedStatus("/elsewhere", ORIGIN)).isEqualTo(404);
    }

    /** The HTTP status the upgrade was refused with. */
    private static int refusedStatus(String path, String origin) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> WsClient.open(path, origin));
        assertThat(thrown).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(java.net.http.WebSocketHandshakeException.class);
        return ((java.net.http.WebSocketHandshakeException) thrown.getCause()).getResponse().statusCode();
    }
}
