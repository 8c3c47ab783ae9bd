package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import io.cellgate.protocol.v1.PushGrpc;
import io.cellgate.protocol.v1.PushMessage;
import io.cellgate.protocol.v1.PushResult;
import io.cellgate.protocol.v1.PushToUsersRequest;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestTopology;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The browser client ({@code clients/web/}) in headless Chromium against a running gateway over
 * WebSocket: it logs in, gets a response, and shows a push sent through the push API. The page is
 * served by a small HTTP server here, whose origin is the one the gateway allows; the page reports
 * each step back to that server, which is how the test reads the page's result.
 */
@StartsProcesses
class BrowserClientTest {
    private static final Path WEB = Path.of("..", "clients", "web");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    Path dir;

    @Test
    void theBrowserClientLogsInIsServedAndShowsAPush() throws Exception {
        assertThat(CHROMIUM).as("Debian's chromium (bin/test installs it)").isExecutable();
        BlockingQueue<Map<String, String>> reports = new LinkedBlockingQueue<>();
        HttpServer pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        pages.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body;
            int status = 200;
            if (path.equals("/report")) {
                Map<String, String> fields = new HashMap<>();
                for (String kv : exchange.getRequestURI().getRawQuery().split("&")) {
                    String[] p = kv.split("=", 2);
                    fields.put(java.net.URLDecoder.decode(p[0], StandardCharsets.UTF_8),
                            p.length > 1 ? java.net.URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
                }
                reports.add(fields);
                body = new byte[0];
            } else if (path.equals("/index.html") || path.equals("/cellgate.js")) {
                body = Files.readAllBytes(WEB.resolve(path.substring(1)));
                exchange.getResponseHeaders().set("Content-Type", path.endsWith(".js") ? "text/javascript" : "text/html");
            } else {
                body = "not found".getBytes(StandardCharsets.UTF_8);
                status = 404;
            }
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        pages.start();
        String origin = "http://127.0.0.1:" + pages.getAddress().getPort();
        Process chromium = null;
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(GatewayYaml.testTopology(sz.address(), sh.address())
                     .section("push:\n  listen: 127.0.0.1:0\n  token: push-token-0123456789\n")
                     .listen("websocket", "127.0.0.1:0").listen("websocket-origins", "[\"" + origin + "\"]").build(),
                     Path.of("."), n -> null))) {
            String page = origin + "/index.html?ws=" + enc("ws://127.0.0.1:" + gateway.webSocketPort() + "/cellgate") + "&uid=42&token="
                    + enc(TestTopology.token(42)) + "&cmd=" + TestTopology.READ + "&body=from-chromium&report=/report";
            chromium = new ProcessBuilder(CHROMIUM.toString(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + dir.resolve("profile"), page)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();

            Map<String, String> response = next(reports, "response");
            assertThat(response.get("code")).isEqualTo("OK");
            assertThat(gateway.context().sessionsOf(42)).extracting(s -> s.device()).containsExactly("web");

            Metadata auth = new Metadata();
            auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer push-token-0123456789");
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.pushPort()).usePlaintext().build();
            try {
                PushResult result = PushGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth))
                        .pushToUsers(PushToUsersRequest.newBuilder().addUids(42).setMessage(PushMessage.newBuilder().setCmd(900)
                                .setBody(ByteString.copyFromUtf8("hello, browser")).setAck(true).setAckTimeoutMs(10_000)).build())
                        .getResults(0).getResult();
                assertThat(result).as("the page acknowledges the push").isEqualTo(PushResult.DELIVERED);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            Map<String, String> push = next(reports, "push");
            assertThat(push.get("body")).isEqualTo("hello, browser");
            assertThat(push.get("cmd")).isEqualTo("900");
        } finally {
            if (chromium != null) {
                chromium.descendants().forEach(ProcessHandle::destroyForcibly);
                chromium.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            pages.stop(0);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The page's next report of {@code stage}; Chromium's first start on a busy machine can take a while. */
    private Map<String, String> next(BlockingQueue<Map<String, String>> reports, String stage) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Map<String, String> r = reports.poll(1, TimeUnit.SECONDS);
            if (r != null) {
                assertThat(r.get("stage")).as("the page's report %s", r).isIn(stage, "response", "push");
                if (r.get("stage").equals(stage)) {
                    return r;
                }
            }
        }
        throw new AssertionError("the page did not report " + stage + " within 60 s; chromium said: "
                + Files.readString(dir.resolve("chromium.log")));
    }
}
