package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.admin.v1.AdminGrpc;
import io.cellgate.protocol.admin.v1.CommandInfo;
import io.cellgate.protocol.admin.v1.GetLimitsRequest;
import io.cellgate.protocol.admin.v1.Limits;
import io.cellgate.protocol.admin.v1.ListCommandsReply;
import io.cellgate.protocol.admin.v1.ListCommandsRequest;
import io.cellgate.protocol.admin.v1.ReloadRequest;
import io.cellgate.protocol.admin.v1.SetCommandRequest;
import io.cellgate.protocol.admin.v1.SetDegradeRequest;
import io.cellgate.protocol.admin.v1.SetLimitsRequest;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestTopology;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The gateway's settings have one writer, the control thread: 1,000 changes from four admin clients at
 * once (commands, limits, degrade, reloads) end in a state that applying them one at a time gives,
 * with no update lost to another.
 */
class ControlThreadTest {
    private static final String ADMIN_TOKEN = "admin-token-of-at-least-16-bytes";
    private static final int OPS_PER_THREAD = 250;

    /** One operation as the client saw it: when it was sent and answered, and the value it gave each field it sets. */
    private record Op(String name, long startNanos, long endNanos, Map<String, String> writes) {
    }

    /** What the gateway holds now, field by field. */
    private static Map<String, String> state(AdminGrpc.AdminBlockingStub admin) {
        ListCommandsReply commands = admin.listCommands(ListCommandsRequest.getDefaultInstance());
        Limits limits = admin.getLimits(GetLimitsRequest.getDefaultInstance());
        CommandInfo read = command(commands, TestTopology.READ);
        CommandInfo write = command(commands, TestTopology.WRITE);
        return Map.of("read.rate", format(read.getRate()), "write.timeout", Long.toString(write.getTimeoutMs()),
                "user-rate", format(limits.getUserRate()), "degrade", limits.getDegrade());
    }

    private static CommandInfo command(ListCommandsReply reply, int cmd) {
        return reply.getCommandsList().stream().filter(c -> c.getCmd() == cmd).findFirst().orElseThrow();
    }

    private static String format(double d) {
        return Double.toString(d);
    }

    @Test
    void concurrentAdminChangesApplyOneAtATimeAndNoneIsLost() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address())
                    .section("admin:\n  listen: 127.0.0.1:0\n  token-env: ADMIN_TOKEN\n").build();
            GatewayConfig config = GatewayConfig.parse(yaml, Path.of("."), Map.of("ADMIN_TOKEN", ADMIN_TOKEN)::get);
            try (GatewayServer gateway = GatewayServer.start(config)) {
                gateway.reloadSource(() -> config);
                ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.adminPort()).usePlaintext().build();
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    Metadata headers = new Metadata();
                    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + ADMIN_TOKEN);
                    AdminGrpc.AdminBlockingStub admin = AdminGrpc.newBlockingStub(channel)
                            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
                    // What a reload sets every field back to: the configuration's values.
                    Map<String, String> fromFile = state(admin);
                    List<Op> ops = Collections.synchronizedList(new ArrayList<>());
                    CountDownLatch go = new CountDownLatch(1);
                    List<Future<?>> threads = new ArrayList<>();
                    threads.add(pool.submit(() -> run(go, ops, i -> {
                        double rate = 1000 + i;
                        admin.setCommand(SetCommandRequest.newBuilder().setCmd(TestTopology.READ).setRate(rate).build());
                        return Map.of("read.rate", format(rate));
                    })));
                    threads.add(pool.submit(() -> run(go, ops, i -> {
                        long timeout = 3000L + i;
                        admin.setCommand(SetCommandRequest.newBuilder().setCmd(TestTopology.WRITE).setTimeoutMs(timeout).build());
                        return Map.of("write.timeout", Long.toString(timeout));
                    })));
                    threads.add(pool.submit(() -> run(go, ops, i -> {
                        if (i % 2 == 0) {
                            double rate = 500 + i;
                            admin.setLimits(SetLimitsRequest.newBuilder().setAcceptRate(-1).setLoginRate(-1).setConnectionRate(-1)
                                    .setUserRate(rate).setMaxInFlight(-1).build());
                            return Map.of("user-rate", format(rate));
                        }
                        String level = i % 4 == 1 ? "P1" : "none";
                        admin.setDegrade(SetDegradeRequest.newBuilder().setLevel(level).build());
                        return Map.of("degrade", level);
                    })));
                    threads.add(pool.submit(() -> run(go, ops, i -> {
                        admin.reload(ReloadRequest.getDefaultInstance());
                        return fromFile;
                    })));
                    go.countDown();
                    for (Future<?> f : threads) {
                        f.get(120, TimeUnit.SECONDS);
                    }
                    assertThat(ops).hasSize(4 * OPS_PER_THREAD);
                    Map<String, String> end = state(admin);
                    for (String field : fromFile.keySet()) {
                        assertThat(possibleLastValues(ops, field)).as("%s after %d operations", field, ops.size())
                                .contains(end.get(field));
                    }
                } finally {
                    pool.shutdownNow();
                    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
            }
        }
    }

    private interface Step {
        Map<String, String> run(int i);
    }

    private static Void run(CountDownLatch go, List<Op> ops, Step step) throws InterruptedException {
        go.await();
        for (int i = 1; i <= OPS_PER_THREAD; i++) {
            long start = System.nanoTime();
            Map<String, String> writes = step.run(i);
            ops.add(new Op("op " + i, start, System.nanoTime(), writes));
        }
        return null;
    }

    /**
     * The values {@code field} may end with if the operations were applied one at a time in an order
     * that respects real time: those of the writers of the field that no other writer of it definitely
     * followed (one that was sent after the writer was answered). A lost update leaves an older value,
     * which is not among them.
     */
    private static List<String> possibleLastValues(List<Op> ops, String field) {
        List<Op> writers = ops.stream().filter(o -> o.writes().containsKey(field)).toList();
        List<String> values = new ArrayList<>();
        for (Op w : writers) {
            // Another operation sent after w was answered; w itself started before its own end.
            boolean followed = writers.stream().anyMatch(o -> o.startNanos() > w.endNanos());
            if (!followed) {
                values.add(w.writes().get(field));
            }
        }
        return values;
    }
}
