package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.route.RouteChange;
import io.cellgate.route.SetState;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.EtcdProcess;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Health verdicts are each gateway's own soft overlay: applied to its routing, never stored, never
 * shared, forgotten on restart and learned again by probing; the last UP set of a city is held up.
 */
@StartsProcesses
class SetHealthOverlayTest {
    /** A user whose write point is sz-a. */
    private static final long UID = TestTopology.uidInSlots(1, 0, 8191);

    private static GatewayYaml twoSetsInSz(String szA, String szB, String sh) {
        return GatewayYaml.testTopology(szA, sh).addSet("sz-b", "sz", "sz-2", szB)
                .health("enabled", "true").health("interval", "100ms").health("timeout", "500ms").health("recovery", "1s");
    }

    private static ServerFrame send(GatewayServer gateway, int cmd, String body) throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(UID, TestTopology.token(UID));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.send(TestClient.request(1, cmd, body));
            return client.next();
        }
    }

    private static SetState routed(GatewayServer gateway, String set) {
        return gateway.routing().set(gateway.routing().indexOf(set)).state();
    }

    private static SetState stored(GatewayServer gateway, String set) {
        return gateway.routes().current().set(gateway.routes().current().indexOf(set)).state();
    }

    @Test
    void aVerdictIsNeverStoredAndARestartedGatewayLearnsItAgainByProbing(@TempDir Path dir) throws Exception {
        TestAo szA = new TestAo("sz-a");
        int port = Integer.parseInt(szA.address().substring(szA.address().lastIndexOf(':') + 1));
        try (TestAo szB = new TestAo("sz-b"); TestAo sh = new TestAo("sh-a")) {
            GatewayConfig config = GatewayConfig.parse(twoSetsInSz(szA.address(), szB.address(), sh.address())
                    .storeDir(dir.resolve("routes")).build(), Path.of("."), name -> null);
            long epoch;
            try (GatewayServer gateway = GatewayServer.start(config)) {
                epoch = gateway.routes().current().epoch();
                szA.close();
                Await.until("sz-a DOWN in this gateway", () -> routed(gateway, "sz-a") == SetState.DOWN);
                assertThat(stored(gateway, "sz-a")).isEqualTo(SetState.UP);
                assertThat(gateway.routes().current().epoch()).isEqualTo(epoch);
                assertThat(gateway.health().down()).containsExactly("sz-a");
                assertThat(send(gateway, TestTopology.READ, "r").getResponse().getBody().toStringUtf8()).isEqualTo("sz-b|r");
                assertThat(send(gateway, TestTopology.WRITE, "w").getResponse().getCode()).isEqualTo(Code.NO_ROUTE);
            }

            // Restarted while the AO is still down: nothing stored holds sz-a DOWN; probing finds it again.
            try (GatewayServer gateway = GatewayServer.start(config)) {
                assertThat(gateway.routes().current().epoch()).isEqualTo(epoch);
                assertThat(stored(gateway, "sz-a")).isEqualTo(SetState.UP);
                Await.until("sz-a DOWN again, by probing", () -> routed(gateway, "sz-a") == SetState.DOWN);

                long started = System.nanoTime();
                try (TestAo back = new TestAo("sz-a", port)) {
                    Await.until("sz-a UP with no operator action", () -> routed(gateway, "sz-a") == SetState.UP);
                    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    // Recovery is 1 s of passing checks; the bound leaves room for a loaded machine.
                    assertThat(millis).as("AO start to UP, ms").isBetween(1_000L, 10_000L);
                    assertThat(send(gateway, TestTopology.WRITE, "w").getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|w");
                    assertThat(gateway.routes().current().epoch()).isEqualTo(epoch);
                    System.out.println("health overlay: sz-a UP " + millis + " ms after its AO started");
                }
            }
        }
    }

    @Test
    void theLastUpSetOfACityIsHeldUpAndItsReadsGoElsewhereUntilAnOperatorDecides() throws Exception {
        TestAo szA = new TestAo("sz-a");
        try (TestAo sh = new TestAo("sh-a")) {
            GatewayConfig config = GatewayConfig.parse(GatewayYaml.testTopology(szA.address(), sh.address())
                    .health("enabled", "true").health("interval", "100ms").health("timeout", "500ms").build(), Path.of("."), n -> null);
            String szAddress = szA.address();
            try (GatewayServer gateway = GatewayServer.start(config)) {
                szA.close();
                Await.until("sz-a held up", () -> gateway.health().heldUp().contains("sz-a"));
                Await.until("sz-a's endpoint ejected", () -> gateway.context().endpointsEjected().get(szAddress));
                assertThat(routed(gateway, "sz-a")).isEqualTo(SetState.UP);
                assertThat(gateway.health().down()).isEmpty();
                // Reads skip a set whose every endpoint is ejected; writes have nowhere else to go.
                assertThat(send(gateway, TestTopology.READ, "r").getResponse().getBody().toStringUtf8()).isEqualTo("sh-a|r");
                assertThat(send(gateway, TestTopology.WRITE, "w").getResponse().getCode()).isEqualTo(Code.UPSTREAM_UNAVAILABLE);

                // The operator decides: a stored DOWN wins, and health no longer judges the set.
                gateway.routes().apply(List.of(new RouteChange.SetSetState("sz-a", SetState.DOWN)));
                Await.until("sz-a no longer held up", () -> !gateway.health().heldUp().contains("sz-a"));
                assertThat(send(gateway, TestTopology.WRITE, "w").getResponse().getCode()).isEqualTo(Code.NO_ROUTE);
            }
        }
    }

    @Test
    void oneGatewaysVerdictDoesNotSpreadThroughTheFleet(@TempDir Path dir) throws Exception {
        TestAo szA = new TestAo("sz-a");
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo szB = new TestAo("sz-b"); TestAo sh = new TestAo("sh-a")) {
            String fleet = "fleet:\n  store: etcd\n  etcd:\n    endpoints: [" + etcd.url() + "]\n    prefix: " + FleetTest.PREFIX
                    + "\n    lease-ttl: 3s\n    timeout: 1s\n    probe-interval: 100ms\n";
            GatewayConfig judging = GatewayConfig.parse(twoSetsInSz(szA.address(), szB.address(), sh.address())
                    .storeDir(dir.resolve("a")).section(fleet).build(), Path.of("."), n -> null);
            GatewayConfig trusting = GatewayConfig.parse(twoSetsInSz(szA.address(), szB.address(), sh.address())
                    .health("enabled", "false").storeDir(dir.resolve("b")).section(fleet).build(), Path.of("."), n -> null);
            try (GatewayServer a = GatewayServer.start(judging); GatewayServer b = GatewayServer.start(trusting)) {
                Await.until("both on one epoch", () -> a.routes().current().epoch() == b.routes().current().epoch());
                long epoch = a.routes().current().epoch();
                szA.close();
                Await.until("sz-a DOWN in gateway a", () -> routed(a, "sz-a") == SetState.DOWN);
                // Several probe intervals of the fleet watch: b would have taken up a stored change by now.
                Await.holdsFor("sz-a UP in gateway b and in the shared routes", java.time.Duration.ofMillis(600),
                        () -> routed(b, "sz-a") == SetState.UP && stored(a, "sz-a") == SetState.UP
                                && a.routes().current().epoch() == epoch && b.routes().current().epoch() == epoch);
            }
        }
    }

    /**
     * Checks that time out are weaker evidence than refused ones (an AO slow to answer, as cold AO
     * processes beside a busy gateway are): a set whose checks hang is taken down all the same, after
     * three times as many checks, and its endpoint is not ejected for them.
     */
    @Test
    void aSetWhoseChecksHangGoesDownAfterNineTimeoutsWithoutAnEjection() throws Exception {
        try (TestAo szA = new TestAo("sz-a"); TestAo szB = new TestAo("sz-b"); TestAo sh = new TestAo("sh-a");
             GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(twoSetsInSz(szA.address(), szB.address(), sh.address())
                     .health("timeout", "50ms").build(), Path.of("."), name -> null))) {
            Await.holdsFor("sz-a UP while its checks pass", java.time.Duration.ofMillis(500), () -> routed(gateway, "sz-a") == SetState.UP);
            long hung = System.nanoTime();
            szA.hangHealth(true);
            Await.until("sz-a DOWN once its checks hang", () -> routed(gateway, "sz-a") == SetState.DOWN);
            long millis = (System.nanoTime() - hung) / 1_000_000;
            System.out.println("hung checks: sz-a DOWN after " + millis + " ms");
            // Nine timed-out checks 100 ms apart, each 50 ms: not before some 800 ms.
            assertThat(millis).as("hang to DOWN, ms").isGreaterThanOrEqualTo(800);
            assertThat(gateway.context().endpointEjections().getOrDefault(szA.address(), 0L)).as("ejections of sz-a").isZero();
            szA.hangHealth(false);
            Await.until("sz-a UP again once its checks pass", () -> routed(gateway, "sz-a") == SetState.UP);
        }
    }
}
