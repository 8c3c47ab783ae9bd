package io.cellgate.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.GoAway;
import io.cellgate.protocol.v1.Response;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestTopology;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The Java client against real gateways and AOs on loopback. */
class CellgateClientTest {
    private static final int READ = TestTopology.READ;

    private static GatewayServer start(String yaml) throws Exception {
        return GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
    }

    private static CellgateClient.Builder client(long uid, int... ports) {
        CellgateClient.Builder b = CellgateClient.builder().login(uid, () -> TestTopology.token(uid)).device("test", "dev-1", "1.0")
                .backoff(Duration.ofMillis(50), Duration.ofMillis(500));
        for (int port : ports) {
            b.gateway("127.0.0.1:" + port);
        }
        return b;
    }

    @Test
    void pipelinedCallsAreAllAnsweredInTheirOwnFutures() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(GatewayYaml.testTopology(sz.address(), sh.address()).build());
             CellgateClient client = client(7, gateway.port()).build()) {
            client.connect().get(10, TimeUnit.SECONDS);
            assertThat(client.loggedIn()).isTrue();
            List<CompletableFuture<Response>> calls = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                calls.add(client.call(READ, ByteString.copyFromUtf8("r" + i)));
            }
            for (int i = 0; i < calls.size(); i++) {
                Response r = calls.get(i).get(10, TimeUnit.SECONDS);
                assertThat(r.getCode()).isEqualTo(Code.OK);
                assertThat(r.getBody().toStringUtf8()).endsWith("|r" + i);
            }
        }
    }

    @Test
    void manyClientsShareOneLoopTheApplicationGivesAndLeaveItRunning() throws Exception {
        io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                io.netty.channel.nio.NioIoHandler.newFactory());
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(GatewayYaml.testTopology(sz.address(), sh.address()).build())) {
            io.netty.channel.EventLoop loop = group.next();
            List<CellgateClient> clients = new ArrayList<>();
            List<CompletableFuture<Response>> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
            try {
                for (int c = 0; c < 20; c++) {
                    CellgateClient client = client(100 + c, gateway.port())
                            .eventLoop(loop, io.netty.channel.socket.nio.NioSocketChannel.class)
                            .localAddress(new InetSocketAddress("127.0.0.1", 0)).build();
                    clients.add(client);
                    client.connect().get(10, TimeUnit.SECONDS);
                }
                // Calls made on the loop itself, as a ticker of the application's would: queued, then flushed together.
                loop.submit(() -> {
                    for (CellgateClient client : clients) {
                        for (int i = 0; i < 50; i++) {
                            calls.add(client.call(READ, ByteString.copyFromUtf8("s" + i)));
                        }
                    }
                }).sync();
                assertThat(calls).hasSize(1000);
                for (CompletableFuture<Response> call : calls) {
                    assertThat(call.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Code.OK);
                }
            } finally {
                clients.forEach(CellgateClient::close);
            }
            // The loop is the application's: closing its clients leaves it running.
            assertThat(loop.submit(() -> "still running").get(5, TimeUnit.SECONDS)).isEqualTo("still running");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void aCallPastItsTimeoutFailsTimedOutAndTheConnectionServesOn() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(GatewayYaml.testTopology(sz.address(), sh.address()).build())) {
            long uid = TestTopology.uidInSlots(3000, 0, 8191);
            // By name: the lookup runs off the client's event loop (BlockHound would catch it there).
            try (CellgateClient client = CellgateClient.builder().gateway("localhost:" + gateway.port())
                    .login(uid, () -> TestTopology.token(uid)).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                sz.delayEcho(500);
                CompletableFuture<Response> slow = client.call(READ, ByteString.copyFromUtf8("slow"), Duration.ofMillis(50));
                assertThatThrownBy(() -> slow.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(CallFailedException.class)
                        .satisfies(e -> assertThat(((CallFailedException) e).reason()).isEqualTo(CallFailedException.Reason.TIMED_OUT));
                sz.delayEcho(0);
                assertThat(client.call(READ, ByteString.copyFromUtf8("next")).get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Code.OK);
            }
        }
    }

    @Test
    void aRefusedTokenFailsTheConnectionForGoodWithTheGatewaysReason() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = start(GatewayYaml.testTopology(sz.address(), sh.address()).build());
             CellgateClient client = CellgateClient.builder().gateway("127.0.0.1:" + gateway.port()).login(8, () -> TestTopology.token(9))
                     .build()) {
            assertThatThrownBy(() -> client.connect().get(10, TimeUnit.SECONDS)).cause().isInstanceOf(CallFailedException.class)
                    .hasMessageContaining("UNAUTHENTICATED");
            CompletableFuture<Response> after = client.call(READ, ByteString.copyFromUtf8("x"));
            assertThatThrownBy(() -> after.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(CallFailedException.class)
                    .satisfies(e -> assertThat(((CallFailedException) e).reason()).isEqualTo(CallFailedException.Reason.CLOSED));
        }
    }

    /**
     * A gateway drains under load: every call made meanwhile is answered OK (in flight before the
     * go_away, or queued, or refused SHUTTING_DOWN by the draining gateway, and sent after the
     * reconnect); the client reconnects to the alternate the go_away named, no sooner than the advised delay.
     */
    @Test
    void aDrainingGatewaySendsTheClientToItsAlternateAndNoCallIsLeftWithoutAnAnswer() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer second = start(GatewayYaml.testTopology(sz.address(), sh.address()).build())) {
            String firstYaml = GatewayYaml.testTopology(sz.address(), sh.address()).build()
                    .replace("  event-loop-threads: 2\n", "  event-loop-threads: 2\n  alternates: [\"127.0.0.1:" + second.port() + "\"]\n");
            GatewayServer first = start(firstYaml);
            ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
            AtomicInteger logins = new AtomicInteger();
            long[] goAwayAt = new long[1];
            long[] advisedMillis = new long[1];
            long[] secondLoginAt = new long[1];
            ClientListener listener = new ClientListener() {
                @Override
                public void loggedIn(InetSocketAddress gateway, String sessionId) {
                    events.add("login " + gateway.getPort());
                    if (logins.incrementAndGet() == 2) {
                        secondLoginAt[0] = System.nanoTime();
                    }
                }

                @Override
                public void goAway(InetSocketAddress gateway, GoAway goAway) {
                    goAwayAt[0] = System.nanoTime();
                    advisedMillis[0] = goAway.getReconnectAfterMs();
                    events.add("go_away " + goAway.getCode() + " after " + goAway.getReconnectAfterMs() + " ms to " + goAway.getAlternatesList());
                }
            };
            List<CompletableFuture<Response>> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
            try (CellgateClient client = client(11, first.port()).listener(listener).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                Thread load = new Thread(() -> {
                    for (int i = 0; i < 600; i++) {
                        calls.add(client.call(READ, ByteString.copyFromUtf8("d" + i), Duration.ofSeconds(10)));
                        try {
                            Thread.sleep(5);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                load.start();
                io.cellgate.testkit.Await.until("100 calls made", () -> calls.size() >= 100);
                assertThat(first.drain(Duration.ofMillis(300), Duration.ofSeconds(10))).isTrue();
                load.join(30_000);
                int ok = 0;
                List<String> failed = new ArrayList<>();
                for (CompletableFuture<Response> call : calls) {
                    try {
                        Response r = call.get(15, TimeUnit.SECONDS);
                        if (r.getCode() == Code.OK) {
                            ok++;
                        } else {
                            failed.add(r.getCode().name());
                        }
                    } catch (ExecutionException e) {
                        failed.add(String.valueOf(e.getCause()));
                    }
                }
                System.out.println("client drain: " + ok + " of " + calls.size() + " OK; others " + failed + "; events " + events);
                assertThat(calls).hasSize(600);
                // A request that reached the draining gateway after its go_away was answered SHUTTING_DOWN, not
                // forwarded: the client sent it again through the alternate. So every call is answered OK.
                assertThat(failed).isEmpty();
                assertThat(ok).isEqualTo(600);
                assertThat(events).contains("login " + first.port(), "login " + second.port());
                assertThat(events).anyMatch(e -> e.startsWith("go_away SHUTTING_DOWN") && e.endsWith("[127.0.0.1:" + second.port() + "]"));
                assertThat(client.loggedIn()).isTrue();
                assertThat(second.context().clientConnections()).isEqualTo(1);
                assertThat(TimeUnit.NANOSECONDS.toMillis(secondLoginAt[0] - goAwayAt[0])).as("go_away to the next login, ms")
                        .isGreaterThanOrEqualTo(advisedMillis[0]);
            } finally {
                first.close();
            }
        }
    }

    @Test
    void speaksTlsAndTrustsOnlyTheGatewaysCertificate(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        io.cellgate.testkit.TestCertificates.selfSigned(dir, "cellgate-test");
        io.cellgate.testkit.TestCertificates.selfSigned(dir.resolve("other"), "someone-else");
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(GatewayYaml.testTopology(sz.address(), sh.address())
                     .tls("cert.pem", "key.pem").build(), dir, name -> null))) {
            io.netty.handler.ssl.SslContext trusting = io.netty.handler.ssl.SslContextBuilder.forClient()
                    .trustManager(dir.resolve("cert.pem").toFile()).build();
            try (CellgateClient client = client(12, gateway.port()).tls(trusting).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                assertThat(client.call(READ, ByteString.copyFromUtf8("tls")).get(10, TimeUnit.SECONDS).getBody().toStringUtf8())
                        .endsWith("|tls");
            }
            io.netty.handler.ssl.SslContext wrongCa = io.netty.handler.ssl.SslContextBuilder.forClient()
                    .trustManager(dir.resolve("other").resolve("cert.pem").toFile()).build();
            ConcurrentLinkedQueue<String> why = new ConcurrentLinkedQueue<>();
            try (CellgateClient client = client(12, gateway.port()).tls(wrongCa).listener(new ClientListener() {
                @Override
                public void disconnected(InetSocketAddress gateway, String reason, long reconnectMillis) {
                    why.add(reason);
                }
            }).build()) {
                CompletableFuture<Void> login = client.connect();
                io.cellgate.testkit.Await.until("a refused handshake", () -> !why.isEmpty());
                assertThat(login).isNotDone();
                assertThat(client.loggedIn()).isFalse();
            }
        }
    }
}
