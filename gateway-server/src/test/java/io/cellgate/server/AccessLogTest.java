package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Dye;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.Request;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.server.internal.AccessLog;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import com.google.protobuf.ByteString;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {

    @Test
    void aFullRingDropsAndCountsAndTheCallerNeverWaits() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        StringWriter sink = new StringWriter();
        Writer blocked = new Writer() {
            @Override
            public void write(char[] buf, int off, int len) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sink.write(buf, off, len);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        AccessLog log = new AccessLog(blocked, 1.0, 8);
        long start = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            log.record("s", 1, i, 7, "OK", "sz-a", 1, 10, "", null, null, 0, 0, null, null);
        }
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(tookMillis).as("1,000 records with the writer stuck").isLessThan(1_000);
        assertThat(log.dropped()).isGreaterThanOrEqualTo(1000 - 8 - 1);
        release.countDown();
        log.close();
        assertThat(log.written() + log.dropped()).isEqualTo(1000);
        assertThat(sink.toString().lines().count()).isEqualTo(log.written());
    }

    @Test
    void dyedRequestsAreAlwaysLoggedAndOthersBySample(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("logs/access.log");
        try (TestAo ao = new TestAo("sz-a")) {
            String yaml = TestTopology.yaml(ao.address(), ao.address(), "shared", "8s", "30s")
                    + "access-log:\n  file: " + file + "\n  sample: 0\n"
                    // uid 31 may dye its own requests (no rule: client dyes are ignored).
                    + "dye:\n  rules:\n    - {uids: [31], client-dye: true}\n";
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(31, TestTopology.token(31));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                for (int seq = 1; seq <= 3; seq++) {
                    client.send(TestClient.request(seq, TestTopology.READ, "plain"));
                    assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                }
                client.send(ClientFrame.newBuilder().setRequest(Request.newBuilder().setSeq(4).setCmd(TestTopology.READ)
                        .setBody(ByteString.copyFromUtf8("dyed")).setDye(Dye.newBuilder().setTag("trace-all"))).build());
                assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                client.send(ClientFrame.newBuilder().setRequest(Request.newBuilder().setSeq(5).setCmd(999)
                        .setDye(Dye.newBuilder().setTag("trace-all"))).build());
                assertThat(client.next().getResponse().getCode()).isEqualTo(Code.UNKNOWN_COMMAND);

                AccessLog log = gateway.context().accessLog();
                Await.until("the login's and 2 requests' access log lines written", () -> log.written() >= 3);
                assertThat(log.written()).isEqualTo(3);
            }
            List<String> lines = Files.readAllLines(file);
            assertThat(lines).hasSize(3);
            assertThat(lines.remove(0)).contains("\"event\":\"login\",\"uid\":31,\"code\":\"OK\"");
            assertThat(lines.get(0)).startsWith("{\"time\":\"").contains("\"uid\":31,\"seq\":4,\"cmd\":1,\"code\":\"OK\",\"set\":\"sz-a\",\"epoch\":1")
                    .contains("\"dye\":\"trace-all\"").endsWith("}");
            assertThat(lines.get(1)).contains("\"seq\":5,\"cmd\":999,\"code\":\"UNKNOWN_COMMAND\"").doesNotContain("\"ao\"");
            assertThat(lines.get(0)).contains("\"in\":4,\"out\":").containsPattern("\"client\":\"127\\.0\\.0\\.1:\\d+\"")
                    .contains("\"ao\":\"" + ao.address() + "\",\"ao_status\":\"OK\"");
        }
    }

    @Test
    void aRotatedAccessLogIsOpenedAgain(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        try (TestAo ao = new TestAo("sz-a")) {
            String yaml = TestTopology.yaml(ao.address(), ao.address(), "shared", "8s", "30s")
                    + "access-log:\n  file: " + file + "\n  sample: 1\n";
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(32, TestTopology.token(32));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                client.send(TestClient.request(1, TestTopology.READ, "before"));
                assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                AccessLog log = gateway.context().accessLog();
                Await.until("the login's line and the first request's", () -> log.written() >= 2);
                // What logrotate does: move the file away, then ask for a reopen.
                Files.move(file, dir.resolve("access.log.1"));
                assertThat(gateway.reopenLogs()).isTrue();
                Await.until("the file opened again", () -> Files.exists(file));
                client.send(TestClient.request(2, TestTopology.READ, "after"));
                assertThat(client.next().getResponse().getCode()).isEqualTo(Code.OK);
                Await.until("the second request's line", java.time.Duration.ofSeconds(10), () -> log.written() >= 3,
                        () -> "written " + log.written() + ", dropped " + log.dropped());
            }
            assertThat(Files.readAllLines(dir.resolve("access.log.1"))).hasSize(2).satisfiesExactly(
                    l -> assertThat(l).contains("\"event\":\"login\""), l -> assertThat(l).contains("\"seq\":1,"));
            assertThat(Files.readAllLines(file)).hasSize(1).allMatch(l -> l.contains("\"seq\":2,"));
        }
    }

    @Test
    void everyLoginIsOneLineWithItsCheckedFieldsAndNothingUnchecked(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("access.log");
        try (TestAo ao = new TestAo("sz-a")) {
            String yaml = TestTopology.yaml(ao.address(), ao.address(), "shared", "8s", "30s")
                    + "access-log:\n  file: " + file + "\n  sample: 0\n"
                    + "dye:\n  rules:\n    - {uids: [41], tag: canary}\n";
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null))) {
                Login.Builder phone = Login.newBuilder().setDevice("ios").setDeviceId("A1b2+/=").setAppVersion("3.4.5");
                Code[] expected = {Code.OK, Code.UNAUTHENTICATED, Code.INVALID_REQUEST};
                Login[] logins = {
                    phone.clone().setUid(41).setToken(TestTopology.token(41)).build(),
                    phone.clone().setUid(42).setToken(TestTopology.token(43)).build(),
                    phone.clone().setUid(44).setToken(TestTopology.token(44)).setDevice("bad device\r\n").build(),
                };
                for (int i = 0; i < logins.length; i++) {
                    try (TestClient client = new TestClient(gateway.port())) {
                        client.send(ClientFrame.newBuilder().setLogin(logins[i]).build());
                        assertThat(client.next().getLoginAck().getCode()).isEqualTo(expected[i]);
                    }
                }
                AccessLog log = gateway.context().accessLog();
                Await.until("3 login lines", () -> log.written() >= 3);
            }
            List<String> lines = Files.readAllLines(file);
            assertThat(lines).hasSize(3);
            assertThat(lines.get(0)).startsWith("{\"time\":\"").contains("\"event\":\"login\",\"uid\":41,\"code\":\"OK\",\"session\":\"")
                    .containsPattern("\"client\":\"127\\.0\\.0\\.1:\\d+\"")
                    .contains("\"device\":\"ios\",\"device_id\":\"A1b2+/=\",\"app_version\":\"3.4.5\",\"dye\":\"canary\"}");
            assertThat(lines.get(1)).contains("\"uid\":42,\"code\":\"UNAUTHENTICATED\"", "\"device\":\"ios\"")
                    .doesNotContain("\"session\"", "\"dye\"");
            // A refusal for a bad field: the uid, the code and the address, none of the client's fields.
            assertThat(lines.get(2)).contains("\"uid\":44,\"code\":\"INVALID_REQUEST\"").doesNotContain("device", "app_version", "bad");
        }
    }
}
