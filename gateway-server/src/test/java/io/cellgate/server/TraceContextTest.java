package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Request;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.Metadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** W3C trace context: a client's traceparent reaches the AO with the same trace id and the gateway's span; the access log has it. */
class TraceContextTest {
    private static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
    private static final Pattern W3C = Pattern.compile("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

    @TempDir
    Path dir;

    private static ClientFrame request(long seq, String traceparent) {
        return ClientFrame.newBuilder().setRequest(Request.newBuilder().setSeq(seq).setCmd(TestTopology.READ)
                .setBody(ByteString.copyFromUtf8("traced")).setTraceparent(traceparent)).build();
    }

    /** The access log's request lines (not its login lines). */
    private static List<String> requestLines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file).stream().filter(l -> !l.contains("\"event\":\"login\"")).toList()
                    : List.of();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    @Test
    void theTraceGoesToTheAoAndIntoTheAccessLog() throws Exception {
        Path accessLog = dir.resolve("access.log");
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(GatewayYaml.testTopology(sz.address(), sh.address())
                     .section("access-log:\n  file: " + accessLog + "\n  sample: 1.0\n").build(), Path.of("."), n -> null));
             TestClient client = new TestClient(gateway.port())) {
            client.login(5, TestTopology.token(5));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            sz.clearHeaders();

            String theirs = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            client.send(request(1, theirs));
            assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
            String sent = sz.nextHeaders().get(TRACEPARENT);
            assertThat(sent).matches(W3C).startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-").endsWith("-01");
            assertThat(sent.substring(36, 52)).as("the gateway's own span is the AO's parent").isNotEqualTo("00f067aa0ba902b7");

            // None, or a malformed one: the gateway starts a trace of its own.
            client.send(request(2, ""));
            client.send(request(3, "00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
            client.send(request(4, "not a traceparent"));
            for (int i = 0; i < 3; i++) {
                assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                String made = sz.nextHeaders().get(TRACEPARENT);
                assertThat(made).matches(W3C).doesNotContain("00000000000000000000000000000000").endsWith("-00");
            }

            Await.until("the access log's request lines", () -> requestLines(accessLog).size() >= 4);
            List<String> requests = requestLines(accessLog);
            assertThat(requests.get(0)).contains("\"seq\":1,").contains("\"trace\":\"4bf92f3577b34da6a3ce929d0e0e4736\"");
            assertThat(requests).allMatch(l -> l.matches(".*\"trace\":\"[0-9a-f]{32}\".*"));
        }
    }
}
