package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.Request;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Clients that abuse the gateway get a defined outcome, and the others keep being served. */
class AbusiveClientsTest {

    private static GatewayServer start(GatewayYaml yaml) throws InterruptedException {
        return GatewayServer.start(GatewayConfig.parse(yaml.build(), Path.of("."), n -> null));
    }

    private static GatewayYaml topology(TestAo sz, TestAo sh) {
        return GatewayYaml.testTopology(sz.address(), sh.address());
    }

    private static void loginOk(TestClient c, long uid) throws Exception {
        c.login(uid, TestTopology.token(uid));
        assertThat(c.next().getLoginAck().getCode()).isEqualTo(Code.OK);
    }

    /** Connects from {@code source}; true when the gateway took the connection (no go_away RATE_LIMITED at once). */
    private static boolean accepted(int port, String source, List<TestClient> open) throws Exception {
        TestClient c = new TestClient(port, source);
        open.add(c);
        c.login(77, TestTopology.token(77));
        ServerFrame f = c.next();
        if (f.hasGoAway()) {
            assertThat(f.getGoAway().getCode()).isEqualTo(Code.RATE_LIMITED);
            return false;
        }
        return f.getLoginAck().getCode() == Code.OK;
    }

    @Test
    void oneSourceNetworkCannotSpendTheAcceptAndLoginBudgetsForEveryone() throws Exception {
        // Accepts: 1/s, a burst of 8; one /24 may use a quarter of that (a burst of 2, one more every 4 s).
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(topology(sz, sh).admission("accept-rate", 1).admission("accept-burst", 8)
                     .admission("source-share", 0.25))) {
            List<TestClient> open = new ArrayList<>();
            try {
                int fromOne = 0;
                for (int i = 0; i < 6; i++) {
                    fromOne += accepted(gateway.port(), "127.0.5.1", open) ? 1 : 0;
                }
                assertThat(fromOne).as("connections taken from one /24 in a burst").isBetween(2, 3);
                // Another /24 still gets in: its addresses spend a budget of their own.
                assertThat(accepted(gateway.port(), "127.0.6.1", open)).isTrue();
                assertThat(accepted(gateway.port(), "127.0.6.2", open)).isTrue();
                assertThat(gateway.context().counters().acceptsRefused()).isGreaterThanOrEqualTo(3);
            } finally {
                for (TestClient c : open) {
                    c.close();
                }
            }
        }
        // Logins: the same share of the login rate.
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(topology(sz, sh).admission("login-rate", 1).admission("login-burst", 8)
                     .admission("source-share", 0.25))) {
            List<TestClient> open = new ArrayList<>();
            try {
                int okFromOne = 0;
                for (int i = 0; i < 5; i++) {
                    TestClient c = new TestClient(gateway.port(), "127.0.7.1");
                    open.add(c);
                    c.login(80 + i, TestTopology.token(80 + i));
                    okFromOne += c.next().getLoginAck().getCode() == Code.OK ? 1 : 0;
                }
                assertThat(okFromOne).as("logins from one /24 in a burst").isBetween(2, 3);
                assertThat(gateway.context().counters().loginsRefused()).isGreaterThanOrEqualTo(2);
                TestClient other = new TestClient(gateway.port(), "127.0.8.1");
                open.add(other);
                loginOk(other, 90);
            } finally {
                for (TestClient c : open) {
                    c.close();
                }
            }
        }
    }

    @Test
    void oneAddressCannotHoldMoreThanItsShareOfConnections() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(topology(sz, sh).admission("max-connections-per-address", 5))) {
            List<TestClient> held = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    TestClient c = new TestClient(gateway.port(), "127.0.0.2");
                    loginOk(c, 10 + i);
                    held.add(c);
                }
                try (TestClient sixth = new TestClient(gateway.port(), "127.0.0.2")) {
                    ServerFrame refused = sixth.next();
                    assertThat(refused.getGoAway().getCode()).isEqualTo(Code.RATE_LIMITED);
                    assertThat(refused.getGoAway().getReason()).isEqualTo("too many connections from 127.0.0.2 (limit 5)");
                    assertThat(refused.getGoAway().getReconnectAfterMs()).isBetween(5_000, 15_000);
                    assertThat(sixth.awaitClosed(5_000)).isTrue();
                }
                assertThat(gateway.context().counters().addressLimited()).isEqualTo(1);
                // Another address is not affected...
                try (TestClient other = new TestClient(gateway.port(), "127.0.0.3")) {
                    loginOk(other, 20);
                }
                // ...and a closed connection gives its place back.
                held.remove(0).close();
                long deadline = System.nanoTime() + 5_000_000_000L;
                TestClient again = null;
                while (again == null) {
                    TestClient c = new TestClient(gateway.port(), "127.0.0.2");
                    c.login(30, TestTopology.token(30));
                    ServerFrame f = c.next();
                    if (f.hasLoginAck()) {
                        assertThat(f.getLoginAck().getCode()).isEqualTo(Code.OK);
                        again = c;
                    } else {
                        c.close();
                        assertThat(System.nanoTime()).as("the place is given back").isLessThan(deadline);
                        Thread.sleep(20);
                    }
                }
                held.add(again);
            } finally {
                for (TestClient c : held) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aClientThatNeverReadsIsPausedThenClosedWhileOthersAreServed() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             // A 3 s heartbeat: a client paused that long (reading nothing) is closed whatever it has queued.
             // The set limit off: when the abuser's 600 calls queue at the AO the limit sheds part of them, and
             // their short answers fit in the socket buffers, so it never becomes a slow reader
             // (aClientHoldingManyCallsIsRefusedAtTheSetsLimitBeforeLightClients is that case).
             GatewayServer gateway = start(topology(sz, sh).setLimit("{enabled: false}")
                     .limit("max-outbound-bytes-per-connection", 300000).heartbeat("3s"))) {
            long uid = TestTopology.uidInSlots(1, 0, 8191);
            // The abuser: a small receive window, pipelines 600 requests with 16 KB answers (9.6 MB, more than the kernel's socket buffers take), never reads.
            try (Socket abuser = new Socket()) {
                abuser.setReceiveBufferSize(4096);
                abuser.connect(new InetSocketAddress("127.0.0.1", gateway.port()));
                OutputStream out = abuser.getOutputStream();
                ClientFrame.newBuilder().setLogin(Login.newBuilder().setUid(uid).setToken(TestTopology.token(uid))
                        .setDevice("abuser").setAppVersion("1")).build().writeDelimitedTo(out);
                byte[] body = new byte[16 * 1024];
                Arrays.fill(body, (byte) 'x');
                java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
                for (int seq = 1; seq <= 600; seq++) {
                    ClientFrame.newBuilder().setRequest(Request.newBuilder().setSeq(seq).setCmd(TestTopology.READ)
                            .setBody(ByteString.copyFrom(body))).build().writeDelimitedTo(batch);
                }
                Thread writer = new Thread(() -> {
                    try {
                        out.write(batch.toByteArray());
                        out.flush();
                    } catch (java.io.IOException e) {
                        // The gateway closed the connection: the outcome under test.
                    }
                }, "abuser-writer");
                writer.setDaemon(true);
                writer.start();

                // A well-behaved client keeps its latency meanwhile.
                try (TestClient good = new TestClient(gateway.port())) {
                    loginOk(good, uid + 1);
                    long[] nanos = new long[200];
                    for (int seq = 1; seq <= nanos.length; seq++) {
                        long t0 = System.nanoTime();
                        good.send(TestClient.request(seq, TestTopology.READ, "ok"));
                        ServerFrame answer = good.next();
                        assertThat(answer.getResponse().getCode()).as(answer.getResponse().getMessage()).isEqualTo(Code.OK);
                        nanos[seq - 1] = System.nanoTime() - t0;
                    }
                    java.util.Arrays.sort(nanos);
                    // The median stays that of an unloaded gateway; the worst case allows for a loaded test machine.
                    assertThat(nanos[nanos.length / 2] / 1_000_000).as("median latency of the good client (ms)").isLessThan(50);
                    assertThat(nanos[nanos.length - 1] / 1_000_000).as("worst latency of the good client (ms)").isLessThan(3_000);
                }
                Await.until("the slow reader closed", () -> gateway.context().counters().slowReadersClosed() > 0);
                assertThat(gateway.context().counters().slowReadersClosed()).isEqualTo(1);
                Await.until("no client connection left", () -> gateway.context().clientConnections() == 0);
                assertThat(gateway.context().clientConnections()).as("the abuser's connection is gone").isZero();
            }
        }
    }

    @Test
    void aClientPipeliningFarBeyondItsInFlightCapGetsEveryExcessRequestRefusedAndStaysServed() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            try (GatewayServer gateway = start(topology(sz, sh).limit("max-in-flight-per-connection", 8));
                 TestClient pipeliner = new TestClient(gateway.port()); TestClient good = new TestClient(gateway.port())) {
                loginOk(pipeliner, 21);
                loginOk(good, 22);
                // 1,000 slow requests (the AO answers after 2 s; the command's timeout is 200 ms) in one write.
                int total = 1_000;
                for (int seq = 1; seq <= total; seq++) {
                    pipeliner.sendNoFlush(TestClient.request(seq, 5, "slow"));
                }
                pipeliner.flush();

                long[] nanos = new long[50];
                for (int seq = 1; seq <= nanos.length; seq++) {
                    long t0 = System.nanoTime();
                    good.send(TestClient.request(seq, TestTopology.READ, "ok"));
                    assertThat(good.next().getResponse().getCode()).isEqualTo(Code.OK);
                    nanos[seq - 1] = System.nanoTime() - t0;
                }
                Arrays.sort(nanos);
                assertThat(nanos[nanos.length / 2] / 1_000_000).as("median latency of the good client (ms)").isLessThan(50);

                // Every request gets exactly one answer: the excess at once, TOO_MANY_IN_FLIGHT; the admitted ones their timeout.
                java.util.Map<Long, Code> answers = new java.util.HashMap<>();
                while (answers.size() < total) {
                    ServerFrame f = pipeliner.next();
                    assertThat(answers.put(f.getResponse().getSeq(), f.getResponse().getCode())).as("one answer per seq").isNull();
                }
                long refused = answers.values().stream().filter(c -> c == Code.TOO_MANY_IN_FLIGHT).count();
                assertThat(refused).as("refused for the cap (answers: %s)", answers.values().stream()
                        .collect(java.util.stream.Collectors.groupingBy(c -> c, java.util.stream.Collectors.counting())))
                        .isGreaterThanOrEqualTo(total - 8L * 10);
                assertThat(answers.values()).filteredOn(c -> c != Code.TOO_MANY_IN_FLIGHT).allMatch(c -> c != Code.OK);
                // The connection is not punished beyond that: it stays open and is served.
                pipeliner.send(TestClient.request(total + 1, TestTopology.READ, "after"));
                assertThat(pipeliner.next().getResponse().getCode()).isEqualTo(Code.OK);
                assertThat(pipeliner.isClosed()).isFalse();
            }
        }
    }

    @Test
    void aClientHoldingManyCallsIsRefusedAtTheSetsLimitBeforeLightClients() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             // A limit of 40 calls at sz-a: P1 may fill 34; a connection with fewer than 10 in flight is light.
             GatewayServer gateway = start(topology(sz, sh).setLimit("{max: 40, connection-share: 0.25}"))) {
            sz.delayEcho(1_000);
            long uid = TestTopology.uidInSlots(1, 0, 8191);
            try (TestClient heavy = new TestClient(gateway.port()); TestClient other = new TestClient(gateway.port())) {
                loginOk(heavy, uid);
                loginOk(other, uid + 1);
                for (int seq = 1; seq <= 50; seq++) {
                    heavy.sendNoFlush(TestClient.request(seq, TestTopology.READ, "bulk"));
                }
                heavy.flush();
                java.util.Map<Long, ServerFrame> answers = new java.util.HashMap<>();
                for (int i = 0; i < 16; i++) {
                    ServerFrame f = heavy.next();
                    assertThat(answers.put(f.getResponse().getSeq(), f)).as("one answer per seq").isNull();
                    assertThat(f.getResponse().getCode()).as(f.getResponse().getMessage()).isEqualTo(Code.SHED_OVERLOAD);
                    assertThat(f.getResponse().getMessage()).isEqualTo("set sz-a is at its concurrency limit (40): P1 requests are being"
                            + " refused, first from connections with 10 or more in flight (this one has 34)");
                }
                // The heavy client filled P1's share; a light client still has room past it.
                for (int seq = 1; seq <= 3; seq++) {
                    other.send(TestClient.request(seq, TestTopology.READ, "light"));
                    assertThat(other.next().getResponse().getCode()).isEqualTo(Code.OK);
                }
                for (int i = 0; i < 34; i++) {
                    ServerFrame f = heavy.next();
                    assertThat(answers.put(f.getResponse().getSeq(), f)).as("one answer per seq").isNull();
                    assertThat(f.getResponse().getCode()).isEqualTo(Code.OK);
                }
                assertThat(answers.keySet()).hasSize(50);
                assertThat(gateway.setLimits().get("sz-a").refused()).isEqualTo(16);
            }
        }
    }

    @Test
    void aClientsRequestBytesInFlightAreBoundedSoItCannotFloodTheSharedUpstream() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(topology(sz, sh).limit("max-in-flight-bytes-per-connection", 65536));
             TestClient heavy = new TestClient(gateway.port()); TestClient other = new TestClient(gateway.port())) {
            loginOk(heavy, 31);
            loginOk(other, 32);
            // 20 requests of 16 KiB in one write to an AO that holds each for 3 s (far longer than reading
            // them takes, however loaded the machine): 4 fit in the 64 KiB budget, the rest are refused at once.
            sz.delayEcho(3_000);
            sh.delayEcho(3_000);
            String body = "x".repeat(16 * 1024);
            for (int seq = 1; seq <= 20; seq++) {
                heavy.sendNoFlush(TestClient.request(seq, TestTopology.READ, body));
            }
            heavy.flush();
            // The budget is per connection: another client's large request goes through meanwhile.
            other.send(TestClient.request(1, TestTopology.READ, body));
            assertThat(other.next().getResponse().getCode()).isEqualTo(Code.OK);

            java.util.Map<Long, Code> answers = new java.util.HashMap<>();
            while (answers.size() < 20) {
                ServerFrame f = heavy.next();
                assertThat(answers.put(f.getResponse().getSeq(), f.getResponse().getCode())).as("one answer per seq").isNull();
                if (f.getResponse().getCode() == Code.TOO_MANY_IN_FLIGHT) {
                    assertThat(f.getResponse().getMessage()).contains("request bytes in flight (limit 65536)");
                }
            }
            assertThat(answers.values().stream().filter(c -> c == Code.TOO_MANY_IN_FLIGHT).count()).as("refused").isEqualTo(16);
            assertThat(answers.values().stream().filter(c -> c == Code.OK).count()).as("served").isEqualTo(4);
            // Answered, the bytes are free again.
            sz.delayEcho(0);
            sh.delayEcho(0);
            heavy.send(TestClient.request(21, TestTopology.READ, body));
            assertThat(heavy.next().getResponse().getCode()).isEqualTo(Code.OK);
        }
    }

    @Test
    void aClientTricklingAFrameByteByByteIsClosedAsIdle() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(topology(sz, sh).heartbeat("100ms"));
             TestClient slow = new TestClient(gateway.port())) {
            loginOk(slow, 7);
            long t0 = System.nanoTime();
            // A frame that announces 1,000 bytes, then one byte every 20 ms: bytes keep coming, a frame never does.
            slow.sendRaw(new byte[] {(byte) 0xE8, 0x07});
            ServerFrame goAway = null;
            for (int i = 0; i < 200 && goAway == null; i++) {
                slow.sendRaw(new byte[] {0x0A});
                goAway = slow.poll(20);
            }
            assertThat(goAway).isNotNull();
            assertThat(goAway.getGoAway().getReason()).isEqualTo("idle: no complete frame for 3 heartbeat intervals");
            assertThat(slow.awaitClosed(2_000)).isTrue();
            assertThat((System.nanoTime() - t0) / 1_000_000).as("closed after about 3 x 100 ms").isBetween(250L, 2_000L);
        }
    }
}
