package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.EtcdProcess;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command's fleet rate holds for the fleet: three gateways on a real etcd, each driven by its own
 * generator at more than the whole rate, and the AO sees the fleet rate, not three times it; with one
 * gateway stopped, the other two take its share.
 */
class FleetRateTest {
    private static final double FLEET_RATE = 300;

    private static GatewayServer start(EtcdProcess etcd, Path dir, String name, TestAo sz, TestAo sh) throws InterruptedException {
        String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).storeDir(dir.resolve(name))
                .section("fleet:\n  store: etcd\n  etcd:\n    endpoints: [" + etcd.url() + "]\n    prefix: " + FleetTest.PREFIX
                        + "\n    lease-ttl: 6s\n    timeout: 1s\n    probe-interval: 100ms\n").build();
        yaml = TestTopology.edit(yaml, "cmd: 1, method: test.Ao/Echo, route: READ, priority: P1, timeout: 10s",
                "cmd: 1, method: test.Ao/Echo, route: READ, priority: P1, timeout: 10s, fleet-rate: " + FLEET_RATE);
        return GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null));
    }

    /** Sends 4 reads every 20 ms (200/s, twice a gateway's share of the fleet rate) until stopped, whatever the answers. */
    private static final class Generator implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong ok = new AtomicLong();
        final AtomicLong limited = new AtomicLong();
        final java.util.Map<Code, AtomicLong> others = new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        final Thread thread;

        Generator(GatewayServer gateway, long uid) {
            thread = new Thread(() -> {
                try (TestClient client = new TestClient(gateway.port())) {
                    client.login(uid, TestTopology.token(uid));
                    assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    long seq = 0;
                    long next = System.nanoTime();
                    while (running.get()) {
                        for (int i = 0; i < 4; i++) {
                            client.sendNoFlush(TestClient.request(++seq, TestTopology.READ, "q"));
                        }
                        client.flush();
                        // Answers are counted as they come: the offered rate does not wait on them.
                        for (ServerFrame f = client.poll(0); f != null; f = client.poll(0)) {
                            if (f.getResponse().getCode() == Code.OK) {
                                ok.incrementAndGet();
                            } else if (f.getResponse().getCode() == Code.RATE_LIMITED) {
                                limited.incrementAndGet();
                            } else {
                                others.computeIfAbsent(f.getResponse().getCode(), k -> new AtomicLong()).incrementAndGet();
                            }
                        }
                        next += 20_000_000L;
                        long sleep = next - System.nanoTime();
                        if (sleep > 0) {
                            Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                        }
                    }
                } catch (Exception | AssertionError e) {
                    if (running.get()) {
                        failed.set(e);
                    }
                }
            }, "fleet-rate-generator");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }
    }

    /** The AOs' calls per second over {@code seconds} (the generators' users live in either set). */
    private static double aoRate(TestAo sz, TestAo sh, int seconds) throws InterruptedException {
        long before = sz.calls() + sh.calls();
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        return (sz.calls() + sh.calls() - before) / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * Never more than the fleet rate (+10%); and no less (-10%) while every gateway was refusing requests
     * over its share: a shortfall with a gateway refusing nothing is the host not carrying the load (a
     * loaded 2-core machine running three gateways, etcd and the AOs), not the shares.
     */
    private static void assertAtTheFleetRate(double seen, boolean everyGatewayAtItsShare, String what) {
        assertThat(seen).as("the AO's rate with " + what).isLessThanOrEqualTo(FLEET_RATE * 1.1);
        if (everyGatewayAtItsShare) {
            assertThat(seen).as("the AO's rate with " + what + ", every gateway at its share").isGreaterThanOrEqualTo(FLEET_RATE * 0.9);
        } else {
            System.out.printf("a gateway refused nothing over its share: the host did not carry the offered load (%.1f/s)%n", seen);
        }
    }

    @Test
    void aFleetRateHoldsAcrossThreeGatewaysAndAfterOneStops(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer a = start(etcd, dir, "a", sz, sh);
             GatewayServer b = start(etcd, dir, "b", sz, sh)) {
            GatewayServer c = start(etcd, dir, "c", sz, sh);
            long uid = TestTopology.uidInSlots(5, 0, 8191);
            try (Generator ga = new Generator(a, uid); Generator gb = new Generator(b, uid + 1)) {
                Generator gc = new Generator(c, uid + 2);
                try {
                    FleetTest.await("three gateways, a third each", () -> List.of(a, b, c).stream().allMatch(g ->
                            g.fleetMembership().members().size() == 3 && Math.abs(g.context().commandTable().fleetShare() - 1.0 / 3) < 0.01));
                    // What was admitted before the shares settled (each gateway takes all of the rate until it sees
                    // the fleet) must be served before the AO is counted: on a cold JVM that takes a moment.
                    Thread.sleep(2_000);
                    long[] before = {ga.ok.get(), gb.ok.get(), gc.ok.get()};
                    long[] limitedBefore = {ga.limited.get(), gb.limited.get(), gc.limited.get()};
                    double three = aoRate(sz, sh, 4);
                    String state = "ok per generator " + (ga.ok.get() - before[0]) + "/" + (gb.ok.get() - before[1]) + "/"
                            + (gc.ok.get() - before[2]) + ", shares " + a.context().commandTable().fleetShare() + "/"
                            + b.context().commandTable().fleetShare() + "/" + c.context().commandTable().fleetShare()
                            + ", other answers " + ga.others + gb.others + gc.others;
                    System.out.println(state);
                    for (Generator g : List.of(ga, gb, gc)) {
                        assertThat(g.failed.get()).as("a generator failed").isNull();
                    }
                    System.out.printf("fleet rate %.0f/s over three gateways offered 600/s: the AO saw %.1f/s%n", FLEET_RATE, three);
                    assertAtTheFleetRate(three, ga.limited.get() > limitedBefore[0] && gb.limited.get() > limitedBefore[1]
                            && gc.limited.get() > limitedBefore[2], "three gateways (" + state + ")");
                    assertThat(ga.limited.get() + gb.limited.get() + gc.limited.get()).as("refused RATE_LIMITED").isPositive();
                } finally {
                    gc.close();
                    c.close();
                }
                FleetTest.await("two gateways, a half each", () -> List.of(a, b).stream().allMatch(g ->
                        g.fleetMembership().members().size() == 2 && Math.abs(g.context().commandTable().fleetShare() - 0.5) < 0.01));
                Thread.sleep(2_000);
                long[] limitedBefore = {ga.limited.get(), gb.limited.get()};
                double two = aoRate(sz, sh, 4);
                System.out.printf("fleet rate %.0f/s over two gateways offered 400/s: the AO saw %.1f/s%n", FLEET_RATE, two);
                assertAtTheFleetRate(two, ga.limited.get() > limitedBefore[0] && gb.limited.get() > limitedBefore[1], "two gateways");
            }
        }
    }
}
