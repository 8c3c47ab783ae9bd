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
                    await("the lift reaches every gateway", () -> g.routing().epoch() >= lifted.epoch());
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
                    // routing(), not routes().current(): the engine publishes before its listeners build the channels
                    // requests use, so a read sent in between would still go to the dead endpoint (and be retried elsewhere).
                    await("both route to the registered AO", () -> a.routing().set(0).endpoints().equals(List.of(sz.address()))
                            && b.routing().set(0).endpoints().equals(List.of(sz.address())));
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

    /**
     * A city switch in a fleet of three on etcd, health checks on, writes flowing through every gateway;
     * the third gateway is cut off from etcd (its proxy killed) as the switch starts. The switch waits
     * until every live gateway has applied the forbid (the cut-off one leaves the membership when its
     * lease runs out), completes although a set changes state meanwhile, and the cut-off gateway, still
     * on its old routes, lands no write in the old city: the AO's fence refuses them. A rollback after a
     * later route change keeps that change.
     */
    @Test
    void aCitySwitchHoldsAcrossTheFleetAndACutOffGatewayLandsNoWriteInTheOldCity(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             io.cellgate.testkit.TcpProxy proxy = io.cellgate.testkit.TcpProxy.to(etcd.url());
             GatewayServer a = startWithHealth(etcd.url(), dir, "a", sz.address(), sh.address());
             GatewayServer b = startWithHealth(etcd.url(), dir, "b", sz.address(), sh.address());
             GatewayServer c = startWithHealth(proxy.url(), dir, "c", sz.address(), sh.address())) {
            await("three members", () -> a.fleetMembership().members().size() == 3);
            long uid = TestTopology.uidInSlots(0, 8192, 16383); // write point sh-a, in city sh
            List<GatewayServer> fleet = List.of(a, b, c);
            List<io.cellgate.testkit.TestLoad> loads = new java.util.ArrayList<>();
            try {
                for (GatewayServer g : fleet) {
                    loads.add(new io.cellgate.testkit.TestLoad(g.port(), uid, TestTopology.WRITE));
                }
                for (io.cellgate.testkit.TestLoad load : loads) {
                    await("writes through every gateway", () -> load.count("write OK") >= 20);
                }
                long cutOffEpoch = c.routes().current().epoch();
                proxy.cut();

                long start = System.nanoTime();
                java.util.concurrent.CompletableFuture<io.cellgate.protocol.admin.v1.CitySwitchReply> switching = a.onControl(() ->
                        a.citySwitch().start("sh", "sz", CitySwitchProcedure.Timing.of(500, 20_000)));
                // Another operator changes a set's state while the switch waits: it goes on.
                await("b sees the forbid", () -> b.routes().current().forbiddenCities().contains("sh"));
                b.routes().apply(List.of(new RouteChange.SetSetState("sh-a", io.cellgate.route.SetState.DOWN)));
                io.cellgate.protocol.admin.v1.CitySwitchReply done = switching.get(30, TimeUnit.SECONDS);
                long tookMs = (System.nanoTime() - start) / 1_000_000;
                long forbidEpoch = done.getForbidEpoch();
                System.out.printf("city switch in a fleet of 3 with one cut off: forbid epoch %d, writes forbidden for %d ms, "
                        + "done at epoch %d after %d ms%n", forbidEpoch, done.getForbiddenMs(), done.getFinalEpoch(), tookMs);
                assertThat(done.getSlotsMoved()).isEqualTo(8192);
                assertThat(c.routes().current().epoch()).as("the cut-off gateway never saw the switch").isEqualTo(cutOffEpoch);
                assertThat(a.fleetMembership().readMembers()).extracting(io.cellgate.server.fleet.FleetMembership.Member::address)
                        .as("the cut-off gateway left the membership when its lease ran out").hasSize(2);
                await("b at the final epoch", () -> b.routes().current().epoch() >= done.getFinalEpoch());
                assertThat(sh.fence().fence()).isEqualTo(forbidEpoch);

                // Writes go on for a while after the switch: a and b write in sz, c is refused at sh's fence.
                sh.clearHeaders();
                long refusedBefore = loads.get(2).count("write WRITE_FORBIDDEN");
                long[] okBefore = {loads.get(0).count("write OK"), loads.get(1).count("write OK")};
                await("a and b write in the new city", () -> loads.get(0).count("write OK") > okBefore[0] + 20
                        && loads.get(1).count("write OK") > okBefore[1] + 20);
                await("the cut-off gateway's writes are refused", () -> loads.get(2).count("write WRITE_FORBIDDEN") > refusedBefore + 20);
                assertThat(sh.drainHeaders()).as("writes accepted in the old city after the switch")
                        .noneMatch(h -> "2".equals(h.get(CMD)));
                assertThat(c.context().counters().fencedWrites()).isGreaterThan(20);
            } finally {
                for (io.cellgate.testkit.TestLoad load : loads) {
                    load.close();
                }
            }
            // Over the whole run, the old city accepted no write dispatched under the forbid epoch or later.
            assertThat(sh.writeEpochs()).allMatch(e -> e < a.routes().current().citySwitch().forbidEpoch());
            for (io.cellgate.testkit.TestLoad load : loads) {
                assertThat(load.counts().keySet()).as("answers").allMatch(k -> k.equals("write OK") || k.equals("write WRITE_FORBIDDEN"));
            }

            // A later change, then a rollback: the switched slots go back to sh-a, the later change stays.
            a.routes().apply(List.of(new RouteChange.SetSetState("sh-a", io.cellgate.route.SetState.UP)));
            long later = TestTopology.uidInSlots(1, 8192, 16383);
            a.routes().apply(List.of(new RouteChange.MoveSlots(0, 99, "sh-a"), new RouteChange.SetOverride(later, "sz-a")));
            io.cellgate.protocol.admin.v1.CitySwitchReply back = a.onControl(() ->
                    a.citySwitch().rollback(CitySwitchProcedure.Timing.of(200, 20_000))).get(30, TimeUnit.SECONDS);
            assertThat(back.getRollback()).isTrue();
            RouteTable t = a.routes().current();
            assertThat(t.set(t.setOfSlot(8192)).name()).isEqualTo("sh-a");
            assertThat(t.set(t.setOfSlot(16383)).name()).isEqualTo("sh-a");
            assertThat(t.set(t.setOfSlot(0)).name()).as("moved after the switch, kept").isEqualTo("sh-a");
            assertThat(t.set(t.setOfSlot(100)).name()).isEqualTo("sz-a");
            assertThat(t.set(t.writePointOf(later)).name()).as("override made after the switch, kept").isEqualTo("sz-a");
            assertThat(t.forbiddenCities()).isEmpty();
            await("b at the rollback's epoch", () -> b.routes().current().epoch() >= back.getFinalEpoch());
        }
    }

    private static final io.grpc.Metadata.Key<String> CMD = io.grpc.Metadata.Key.of("x-cellgate-cmd", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

    static GatewayServer startWithHealth(String etcdUrl, Path dir, String name, String sz, String sh) throws InterruptedException {
        // Writes answered WRITE_FORBIDDEN come back at once: the load would pass the per-connection rate.
        String yaml = GatewayYaml.testTopology(sz, sh).storeDir(dir.resolve(name)).health("interval", "200ms")
                .admission("connection-rate", 1_000_000)
                .section("fleet:\n  store: etcd\n  etcd:\n    endpoints: [" + etcdUrl + "]\n    prefix: " + PREFIX
                        + "\n    lease-ttl: 3s\n    timeout: 1s\n    probe-interval: 100ms\n").build();
        return GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null));
    }

    /**
     * The fleet on an etcd that speaks only TLS and has authentication on: the gateways reach it with the
     * CA and a user whose role may read and write only the fleet's prefix; routes, membership and a
     * revocation flow as on a plain etcd; a wrong password or a missing CA is a clear start-up error.
     */
    @Test
    void theFleetRunsOnEtcdWithTlsAndAuthentication(@TempDir Path dir) throws Exception {
        Path tls = dir.resolve("etcd-tls");
        io.cellgate.testkit.TestCertificates.selfSigned(tls, "etcd");
        String password = "cellgate-etcd-password-0123";
        try (EtcdProcess etcd = new EtcdProcess(dir, tls); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            io.netty.handler.ssl.SslContext trust = io.grpc.netty.GrpcSslContexts.forClient().trustManager(tls.resolve("cert.pem").toFile())
                    .build();
            try (Client root = Client.builder().endpoints(etcd.url()).sslContext(trust).build()) {
                io.etcd.jetcd.Auth auth = root.getAuthClient();
                auth.userAdd(bytes("root"), bytes("root-password-0123456")).get(10, TimeUnit.SECONDS);
                auth.roleAdd(bytes("root")).get(10, TimeUnit.SECONDS);
                auth.userGrantRole(bytes("root"), bytes("root")).get(10, TimeUnit.SECONDS);
                auth.roleAdd(bytes("cellgate")).get(10, TimeUnit.SECONDS);
                auth.roleGrantPermission(bytes("cellgate"), bytes(PREFIX), bytes(PREFIX.substring(0, PREFIX.length() - 1) + "0"),
                        io.etcd.jetcd.auth.Permission.Type.READWRITE).get(10, TimeUnit.SECONDS);
                auth.userAdd(bytes("cellgate"), bytes(password)).get(10, TimeUnit.SECONDS);
                auth.userGrantRole(bytes("cellgate"), bytes("cellgate")).get(10, TimeUnit.SECONDS);
                auth.authEnable().get(10, TimeUnit.SECONDS);
            }
            // Authentication is really on: without a user, nothing of the fleet can be read.
            try (Client anonymous = Client.builder().endpoints(etcd.url()).sslContext(trust).build()) {
                assertThatThrownBy(() -> anonymous.getKVClient().get(bytes(PREFIX + "routes/epoch")).get(10, TimeUnit.SECONDS))
                        .satisfies(e -> assertThat(String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT))
                                .containsAnyOf("user name is empty", "permission denied", "invalid auth token"));
            }
            Path ca = tls.resolve("cert.pem");
            assertThatThrownBy(() -> GatewayServer.start(GatewayConfig.parse(securedYaml(etcd.url(), dir.resolve("x"), sz.address(),
                    sh.address(), ca, "wrong-password-0123456789"), Path.of("."), n -> null)))
                    .hasMessageContaining("fleet.store etcd: cannot start");
            assertThatThrownBy(() -> GatewayConfig.parse(securedYaml(etcd.url(), dir.resolve("x"), sz.address(), sh.address(), null,
                    password), Path.of("."), n -> null))
                    .hasMessageContaining("fleet.etcd.tls.ca-file");
            try (GatewayServer a = GatewayServer.start(GatewayConfig.parse(securedYaml(etcd.url(), dir.resolve("a"), sz.address(),
                    sh.address(), ca, password), Path.of("."), n -> null));
                 GatewayServer b = GatewayServer.start(GatewayConfig.parse(securedYaml(etcd.url(), dir.resolve("b"), sz.address(),
                         sh.address(), ca, password), Path.of("."), n -> null))) {
                RouteTable moved = a.routes().apply(List.of(new RouteChange.MoveSlots(0, 99, "sh-a")));
                await("b takes up epoch " + moved.epoch(), () -> b.routes().current().epoch() == moved.epoch());
                await("two members", () -> a.fleetMembership().members().size() == 2);
                assertThat(a.fleet().stale()).isFalse();
                long uid = 777;
                try (TestClient session = new TestClient(b.port())) {
                    session.login(uid, TestTopology.token(uid));
                    assertThat(session.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    a.routes().apply(List.of(new RouteChange.RevokeUser(uid, System.currentTimeMillis() / 1000 + 60)));
                    ServerFrame f = session.poll(10_000);
                    assertThat(f).isNotNull();
                    assertThat(f.getGoAway().getCode()).isEqualTo(Code.UNAUTHENTICATED);
                }
                assertThat(read(a, uid + 1).getResponse().getCode()).isEqualTo(Code.OK);
            }
        }
    }

    private static io.etcd.jetcd.ByteSequence bytes(String s) {
        return io.etcd.jetcd.ByteSequence.from(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    static String securedYaml(String etcdUrl, Path storeDir, String sz, String sh, Path ca, String password) {
        return GatewayYaml.testTopology(sz, sh).storeDir(storeDir)
                .section("fleet:\n  store: etcd\n  etcd:\n    endpoints: [" + etcdUrl + "]\n    prefix: " + PREFIX
                        + "\n    lease-ttl: 3s\n    timeout: 1s\n    probe-interval: 100ms\n"
                        + (ca == null ? "" : "    tls:\n      ca-file: " + ca + "\n")
                        + "    user: cellgate\n    password: " + password + "\n").build();
    }
}
