package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cellgate.limit.Priority;
import io.cellgate.protocol.admin.v1.AdminGrpc;
import io.cellgate.protocol.admin.v1.ReloadRequest;
import io.cellgate.protocol.admin.v1.SetCommandRequest;
import io.cellgate.protocol.admin.v1.SetDegradeRequest;
import io.cellgate.protocol.admin.v1.SetLimitsRequest;
import io.cellgate.protocol.admin.v1.StatusRequest;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.CommandSpec;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.EtcdProcess;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The settings a fleet shares through etcd (commands, admission rates, degrade): changed through any
 * gateway's admin API, applied by every gateway, kept across a restart while etcd is down, and left
 * alone by a reload of one gateway's file. In-process gateways on a real etcd.
 */
class FleetSettingsTest {
    private static final String TOKEN = "fleet-settings-admin-token";

    private static GatewayConfig config(EtcdProcess etcd, Path dir, String name, TestAo sz, TestAo sh, String commandsEdit) {
        String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).storeDir(dir.resolve(name))
                .section("admin:\n  listen: 127.0.0.1:0\n  token-env: ADMIN_TOKEN\n")
                .section("fleet:\n  store: etcd\n  etcd:\n    endpoints: [" + etcd.url() + "]\n    prefix: " + FleetTest.PREFIX
                        + "\n    lease-ttl: 3s\n    timeout: 1s\n    probe-interval: 100ms\n").build();
        if (commandsEdit != null) {
            yaml = TestTopology.edit(yaml, "cmd: 1, method: test.Ao/Echo, route: READ, priority: P1, timeout: 10s", commandsEdit);
        }
        return GatewayConfig.parse(yaml, Path.of("."), Map.of("ADMIN_TOKEN", TOKEN)::get);
    }

    private static GatewayServer start(EtcdProcess etcd, Path dir, String name, TestAo sz, TestAo sh) throws InterruptedException {
        return GatewayServer.start(config(etcd, dir, name, sz, sh, null));
    }

    /** Runs {@code call} against {@code gateway}'s admin API. */
    private static <T> T admin(GatewayServer gateway, java.util.function.Function<AdminGrpc.AdminBlockingStub, T> call) {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.adminPort()).usePlaintext().build();
        try {
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
            return call.apply(AdminGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            channel.shutdownNow();
        }
    }

    private static Code read(GatewayServer gateway, long uid) throws Exception {
        try (TestClient client = new TestClient(gateway.port())) {
            client.login(uid, TestTopology.token(uid));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.send(TestClient.request(1, TestTopology.READ, "r"));
            ServerFrame answer = client.next();
            return answer.getResponse().getCode();
        }
    }

    private static CommandSpec spec(GatewayServer gateway, int cmd) {
        return gateway.context().commandTable().specs().stream().filter(s -> s.cmd() == cmd).findFirst().orElseThrow();
    }

    @Test
    void aChangeThroughOneGatewayAppliesOnEveryGatewayAndAReloadLeavesItAlone(@TempDir Path dir) throws Exception {
        long uid = TestTopology.uidInSlots(3, 0, 8191);
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer a = start(etcd, dir, "a", sz, sh);
             GatewayServer b = start(etcd, dir, "b", sz, sh);
             GatewayServer c = start(etcd, dir, "c", sz, sh)) {
            List<GatewayServer> fleet = List.of(a, b, c);
            for (GatewayServer g : fleet) {
                assertThat(read(g, uid)).isEqualTo(Code.OK);
                assertThat(g.sharedSettings().getEpoch()).as("seeded once, by the first gateway").isEqualTo(1);
            }

            // Degrade through a: every gateway sheds P1 within a second.
            long t0 = System.nanoTime();
            admin(a, s -> s.setDegrade(SetDegradeRequest.newBuilder().setLevel("P0").build()));
            while (!fleet.stream().allMatch(g -> g.context().degradeLevel() == Priority.P0) && System.nanoTime() - t0 < 30_000_000_000L) {
                Thread.onSpinWait();
            }
            long millis = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("fleet settings: a degrade through one gateway applied by all three after " + millis + " ms");
            assertThat(millis).as("degrade reached the fleet (ms)").isLessThan(1_000);
            for (GatewayServer g : fleet) {
                assertThat(read(g, uid)).as("a P1 read on a degraded gateway").isEqualTo(Code.SHED_OVERLOAD);
            }
            assertThat(admin(c, s -> s.status(StatusRequest.getDefaultInstance())).getSettingsEpoch()).isEqualTo(2);

            // A command changed through b, limits through c: everywhere, nothing lost between them.
            admin(b, s -> s.setCommand(SetCommandRequest.newBuilder().setCmd(TestTopology.READ).setTimeoutMs(4_321).build()));
            admin(c, s -> s.setLimits(SetLimitsRequest.newBuilder().setAcceptRate(-1).setLoginRate(-1).setConnectionRate(-1)
                    .setUserRate(777).setMaxInFlight(-1).build()));
            FleetTest.await("the command and the limits everywhere", () -> fleet.stream().allMatch(g ->
                    spec(g, TestTopology.READ).timeout().toMillis() == 4_321 && g.context().admission().userRate() == 777));
            for (GatewayServer g : fleet) {
                assertThat(g.context().degradeLevel()).as("the degrade made before stays").isEqualTo(Priority.P0);
                assertThat(g.sharedSettings().getEpoch()).isEqualTo(4);
            }
            assertThat(a.sharedSettings().getChangedBy()).isEqualTo(c.fleetMembership().address());
            assertThat(a.sharedSettings().getChange()).isEqualTo("limits set");

            // Dye rules set through c reach all three; a rule naming an unknown set is refused and changes nothing.
            io.cellgate.protocol.admin.v1.DyeRules rules = io.cellgate.protocol.admin.v1.DyeRules.newBuilder()
                    .addRules(io.cellgate.protocol.admin.v1.DyeRuleInfo.newBuilder().setTag("canary").addUids(uid).setReadSet("sh-a"))
                    .addRules(io.cellgate.protocol.admin.v1.DyeRuleInfo.newBuilder().addDevices("android").setClientDye(true))
                    .build();
            admin(c, s -> s.setDyeRules(io.cellgate.protocol.admin.v1.SetDyeRulesRequest.newBuilder().setRules(rules).build()));
            FleetTest.await("the dye rules everywhere", () -> fleet.stream().allMatch(g -> g.context().dyeRules().size() == 2));
            for (GatewayServer g : fleet) {
                assertThat(g.context().dyeRules().get(0).tag()).isEqualTo("canary");
                assertThat(g.context().dyeRules().get(0).matches(uid, "ios", "1.0")).isTrue();
                assertThat(g.context().dyeRules().get(1).clientDye()).isTrue();
                assertThat(g.sharedSettings().getEpoch()).isEqualTo(5);
            }
            assertThatThrownBy(() -> admin(b, s -> s.setDyeRules(io.cellgate.protocol.admin.v1.SetDyeRulesRequest.newBuilder()
                    .setRules(io.cellgate.protocol.admin.v1.DyeRules.newBuilder().addRules(io.cellgate.protocol.admin.v1.DyeRuleInfo
                            .newBuilder().setTag("x").setWriteSet("nowhere"))).build())))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("nowhere");
            io.cellgate.protocol.admin.v1.DyeRules listed = admin(a, s -> s.getDyeRules(
                    io.cellgate.protocol.admin.v1.GetDyeRulesRequest.getDefaultInstance()));
            assertThat(listed).isEqualTo(rules);

            // a reloads a file that changes the command: the fleet's value stays, and the key is named as kept.
            a.reloadSource(() -> config(etcd, dir, "a", sz, sh, "cmd: 1, method: test.Ao/Echo, route: READ, priority: P1, timeout: 9s"));
            var reloaded = admin(a, s -> s.reload(ReloadRequest.getDefaultInstance()));
            assertThat(reloaded.getKeptByRouteStoreList()).contains("commands");
            assertThat(spec(a, TestTopology.READ).timeout().toMillis()).isEqualTo(4_321);
            assertThat(a.context().degradeLevel()).isEqualTo(Priority.P0);
            assertThat(a.context().dyeRules()).as("the fleet's dye rules, not the file's (none)").hasSize(2);

            admin(b, s -> s.setDegrade(SetDegradeRequest.newBuilder().setLevel("none").build()));
            FleetTest.await("no degrade anywhere", () -> fleet.stream().allMatch(g -> g.context().degradeLevel() == null));
            for (GatewayServer g : fleet) {
                assertThat(read(g, uid)).isEqualTo(Code.OK);
            }
        }
    }

    @Test
    void aGatewayRestartedWhileEtcdIsDownStartsWithTheFleetsSettingsFromItsLocalCopy(@TempDir Path dir) throws Exception {
        long uid = TestTopology.uidInSlots(4, 0, 8191);
        try (EtcdProcess etcd = new EtcdProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a");
             GatewayServer a = start(etcd, dir, "a", sz, sh)) {
            GatewayServer b = start(etcd, dir, "b", sz, sh);
            try {
                admin(a, s -> s.setDegrade(SetDegradeRequest.newBuilder().setLevel("P0").build()));
                FleetTest.await("b degraded", () -> b.context().degradeLevel() == Priority.P0);
            } finally {
                b.close();
            }
            etcd.stop();
            FleetTest.await("a sees etcd gone", () -> a.fleet().stale());
            // A fleet setting is not changed on one gateway alone.
            assertThatThrownBy(() -> admin(a, s -> s.setDegrade(SetDegradeRequest.newBuilder().setLevel("none").build())))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("etcd").hasMessageContaining("the change was not made");
            assertThat(a.context().degradeLevel()).isEqualTo(Priority.P0);

            try (GatewayServer back = start(etcd, dir, "b", sz, sh)) {
                assertThat(back.context().degradeLevel()).as("from the local copy, not the file").isEqualTo(Priority.P0);
                assertThat(read(back, uid)).isEqualTo(Code.SHED_OVERLOAD);
                etcd.start();
                FleetTest.await("etcd back", () -> !a.fleet().stale() && !back.fleet().stale());
                admin(a, s -> s.setDegrade(SetDegradeRequest.newBuilder().setLevel("none").build()));
                FleetTest.await("the restarted gateway takes up the change", () -> back.context().degradeLevel() == null);
                assertThat(read(back, uid)).isEqualTo(Code.OK);
            }
        }
    }
}
