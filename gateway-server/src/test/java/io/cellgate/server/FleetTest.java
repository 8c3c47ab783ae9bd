package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteConflictException;
import io.cellgate.route.RouteTable;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.server.fleet.EndpointRegistration;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.EtcdProcess;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.etcd.jetcd.Client;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/** Gateways sharing routes and endpoints through a real etcd (in-process gateways; processes in admin-cli's FleetProcessTest). */
@StartsProcesses
class FleetTest {
    static final String PREFIX = "/cellgate/test/";

    static String yaml(String etcdUrl, Path storeDir, String szEndpoint, String shEndpoint) {
        return GatewayYaml.testTopology(szEndpoint, shEndpoint).storeDir(storeDir)
                .section("fleet:\n  store: etcd\n  etcd:\n    endpoints: [" + etcdUrl + "]\n    prefix: " + PREFIX
                        + "\n    lease-ttl: 3s\n    timeout: 1s\n    probe-interval: 100ms\n").build();
    }

    static GatewayServer start(EtcdProcess etcd, Path dir, String name, String sz, String sh) throws InterruptedException {
        return GatewayServer.start(GatewayConfig.parse(yaml(etcd.url(), dir.resolve(name), sz, sh), Path.of("."), n -> null));
    }

    static void await(String what, BooleanSupplier condition) {
        Await.until(what, condition);
    }

    static ServerFrame read(GatewayServer gateway, long uid) throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(uid, TestTopology.token(uid));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.send(TestClient.request(1, TestTopology.READ, "f"));
            return client.next();
        }
    }

    @Test
    void routesChangeOnEveryGatewayAndConflictingWritesNameTheEpoch(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer a = start(etcd, dir, "a", sz.address(), sh.address());
             GatewayServer b = start(etcd, dir, "b", sz.address(), sh.address())) {
            assertThat(b.routes().current().epoch()).isEqualTo(a.routes().current().epoch());

            RouteTable moved = a.routes().apply(List.of(new RouteChange.MoveSlots(0, 99, "sh-a")));
            await("b takes up epoch " + moved.epoch(), () -> b.routes().current().epoch() == moved.epoch());
            assertThat(b.routes().current().sameRoutes(moved)).isTrue();

            // Two operators change the routes against the same epoch at once, on two gateways.
            long base = moved.epoch();
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Callable<RouteTable> onA = () -> {
                    go.await();
                    return a.routes().apply(base, List.of(new RouteChange.MoveSlots(100, 199, "sh-a")));
                };
                Callable<RouteTable> onB = () -> {
                    go.await();
                    return b.routes().apply(base, List.of(new RouteChange.MoveSlots(200, 299, "sh-a")));
                };
                Future<RouteTable> fa = pool.submit(onA);
                Future<RouteTable> fb = pool.submit(onB);
                go.countDown();
                int won = 0;
                for (Future<RouteTable> f : List.of(fa, fb)) {
                    try {
                        assertThat(f.get().epoch()).isEqualTo(base + 1);
                        won++;
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(RouteConflictException.class)
                                .hasMessageContaining("route epoch is " + (base + 1) + ", not " + base);
                    }
                }
                assertThat(won).isEqualTo(1);
            } finally {
                pool.shutdownNow();
            }
            await("both at epoch " + (base + 1), () -> a.routes().current().epoch() == base + 1 && b.routes().current().epoch() == base + 1);
            assertThat(a.routes().current().sameRoutes(b.routes().current())).isTrue();

            // Without an expected epoch, a write made on a stale snapshot is applied on top of the stored one.
            RouteTable both = b.routes().apply(List.of(new RouteChange.MoveSlots(300, 399, "sh-a")));
            await("a at " + both.epoch(), () -> a.routes().current().epoch() == both.epoch());
            assertThat(a.fleetMembership()).isNotNull();
            await("two members", () -> a.fleetMembership().members().size() == 2);
        }
    }

    @Test
    void aRevokedUserIsDisconnectedOnEveryGatewayAndCannotLogInUntilItIsLifted(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer a = start(etcd, dir, "a", sz.address(), sh.address());
             GatewayServer b = start(etcd, dir, "b", sz.address(), sh.address());
             GatewayServer c = start(etcd, dir, "c", sz.address(), sh.address())) {
            long uid = 555;
            List<GatewayServer> fleet = List.of(a, b, c);
            List<TestClient> sessions = new java.util.ArrayList<>();
            try {
                for (GatewayServer g : fleet) {
                    TestClient client = new TestClient(g.port());
                    sessions.add(client);
                    client.login(uid, TestTopology.token(uid));
                    assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                }
                long until = System.currentTimeMillis() / 1000 + 3600;
                long start = System.nanoTime();
                a.routes().apply(List.of(new RouteChange.RevokeUser(uid, until)));
                for (int i = 0; i < fleet.size(); i++) {
                    ServerFrame f = sessions.get(i).poll(10_000);
                    assertThat(f).as("go_away on gateway %d", i).isNotNull();
                    assertThat(f.getGoAway().getCode()).isEqualTo(Code.UNAUTHENTICATED);
                    assertThat(f.getGoAway().getReason()).isEqualTo("revoked until " + until);
                    assertThat(sessions.get(i).awaitClosed(10_000)).isTrue();
                }
                System.out.printf("a revoked user's sessions on 3 gateways closed within %d ms%n", (System.nanoTime() - start) / 1_000_000);
                for (GatewayServer g : fleet) {
                    try (TestClient again = new TestClient(g.port())) {
                        again.login(uid, TestTopology.token(uid));
                        ServerFrame ack = again.next();
                        assertThat(ack.getLoginAck().getCode()).isEqualTo(Code.UNAUTHENTICATED);
                        assertThat(ack.getLoginAck().getMessage()).isEqualTo("revoked until " + until);
                    }
                    assertThat(read(g, uid + 1).getResponse().getCode()).as("other users").isEqualTo(Code.OK);
                }
                RouteTable lifted = b.routes().apply(List.of(new RouteChange.RevokeUser(uid, 0)));
                for (GatewayServer g : fleet) {
                    await("the lift reaches every gateway", () -> g.routes().current().epoch() >= lifted.epoch());
                    assertThat(read(g, uid).getResponse().getCode()).isEqualTo(Code.OK);
                }
            } finally {
                for (TestClient s : sessions) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aRegisteredEndpointGetsTrafficAndOutagesAreServedFromTheLocalCopy(@TempDir Path dir) throws Exception {
        String dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            dead = "127.0.0.1:" + s.getLocalPort();
        }
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            GatewayServer a = start(etcd, dir, "a", dead, sh.address());
            GatewayServer b = start(etcd, dir, "b", dead, sh.address());
            GatewayServer restarted = null;
            try {
                long uid = TestTopology.uidInSlots(1, 0, 8191);
                try (EndpointRegistration reg = new EndpointRegistration(List.of(etcd.url()), PREFIX, "sz-a", sz.address(),
                        Duration.ofSeconds(3))) {
                    long registered = System.nanoTime();
                    await("both route to the registered AO", () -> a.routes().current().set(0).endpoints().equals(List.of(sz.address()))
                            && b.routes().current().set(0).endpoints().equals(List.of(sz.address())));
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - registered)).isLessThan(1000);
                    assertThat(read(a, uid).getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|f");
                    assertThat(read(b, uid).getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|f");

                    // etcd goes away: both keep serving and say their routes are stale.
                    etcd.stop();
                    await("stale", () -> a.fleet().stale() && b.fleet().stale());
                    assertThat(read(a, uid).getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|f");
                    assertThatThrownBy(() -> a.routes().apply(List.of(new RouteChange.MoveSlots(0, 9, "sh-a"))))
                            .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("etcd");

                    // b restarts while etcd is down: it boots from its local copy and serves.
                    long epoch = b.routes().current().epoch();
                    b.close();
                    restarted = start(etcd, dir, "b", dead, sh.address());
                    assertThat(restarted.routes().current().epoch()).isEqualTo(epoch);
                    assertThat(read(restarted, uid).getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|f");

                    // etcd returns: both converge and changes flow again.
                    etcd.start();
                    GatewayServer bb = restarted;
                    await("fresh", () -> !a.fleet().stale() && !bb.fleet().stale());
                    RouteTable after = a.routes().apply(List.of(new RouteChange.MoveSlots(0, 9, "sh-a")));
                    await("b at " + after.epoch(), () -> bb.routes().current().epoch() == after.epoch());
                }
            } finally {
                a.close();
                b.close();
                if (restarted != null) {
                    restarted.close();
                }
            }
        }
    }

    @Test
    void aGatewayStoppedWhileRoutesChangedCatchesUpAfterACompaction(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer a = start(etcd, dir, "a", sz.address(), sh.address())) {
            GatewayServer b = start(etcd, dir, "b", sz.address(), sh.address());
            b.close();
            for (int i = 0; i < 20; i++) {
                a.routes().apply(List.of(new RouteChange.MoveSlots(i * 10, i * 10 + 9, i % 2 == 0 ? "sh-a" : "sz-a")));
            }
            try (Client client = Client.builder().endpoints(etcd.url()).build()) {
                long rev = client.getKVClient().get(io.etcd.jetcd.ByteSequence.from("x", java.nio.charset.StandardCharsets.UTF_8))
                        .get(5, TimeUnit.SECONDS).getHeader().getRevision();
                client.getKVClient().compact(rev).get(5, TimeUnit.SECONDS);
            }
            try (GatewayServer back = start(etcd, dir, "b", sz.address(), sh.address())) {
                await("b caught up", () -> back.routes().current().epoch() == a.routes().current().epoch());
                assertThat(back.routes().current().sameRoutes(a.routes().current())).isTrue();
            }
        }
    }
}
