package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.PushAck;
import io.cellgate.protocol.v1.PushGrpc;
import io.cellgate.protocol.v1.PushMessage;
import io.cellgate.protocol.v1.PushResult;
import io.cellgate.protocol.v1.PushToUsersReply;
import io.cellgate.protocol.v1.PushToUsersRequest;
import io.cellgate.protocol.v1.ServerPush;
import io.cellgate.protocol.v1.UserPushResult;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.GatewaydProcess;
import io.cellgate.testkit.RedisProcess;
import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways, a real Redis and a user on each: a push to either gateway reaches the user on the
 * other; the holding gateway killed, a push says NOT_CONNECTED at once; Redis killed, a push says
 * DIRECTORY_UNAVAILABLE for users elsewhere while local pushes still work; Redis back (empty), the
 * gateways write their users again and pushes cross gateways once more.
 */
@StartsProcesses
class SessionDirectoryTest {
    private static final String TOKEN = "push-token-0123456789";

    @TempDir
    Path dir;

    private static String yaml(TestAo sz, TestAo sh, String redis) {
        return GatewayYaml.testTopology(sz.address(), sh.address())
                .section("push:\n  listen: 127.0.0.1:0\n  token: " + TOKEN + "\n")
                .section("sessions:\n  directory:\n    redis: " + redis + "\n    ttl: 900ms\n").build();
    }

    private static PushToUsersReply push(ManagedChannel channel, boolean ack, long... uids) {
        Metadata auth = new Metadata();
        auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
        PushToUsersRequest.Builder b = PushToUsersRequest.newBuilder().setMessage(PushMessage.newBuilder().setCmd(5)
                .setBody(ByteString.copyFromUtf8("across")).setAck(ack).setAckTimeoutMs(3_000));
        for (long uid : uids) {
            b.addUids(uid);
        }
        return PushGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth))
                .withDeadlineAfter(20, TimeUnit.SECONDS).pushToUsers(b.build());
    }

    private static ManagedChannel channel(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    private static TestClient login(int port, long uid) throws Exception {
        TestClient c = new TestClient(port);
        c.login(uid, TestTopology.token(uid));
        assertThat(c.next().getLoginAck().getCode()).isEqualTo(Code.OK);
        return c;
    }

    private static ServerPush nextPush(TestClient c) throws Exception {
        io.cellgate.protocol.v1.ServerFrame f = c.next();
        assertThat(f.hasPush()).as("%s", f).isTrue();
        return f.getPush();
    }

    @Test
    void pushesFindUsersOnOtherGatewaysAndSayAtOnceWhenTheyCannot() throws Exception {
        try (RedisProcess redis = new RedisProcess(dir); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = yaml(sz, sh, redis.uri());
            Path bConfig = dir.resolve("b.yaml");
            Files.writeString(bConfig, yaml);
            try (GatewayServer a = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null));
                 GatewaydProcess b = GatewaydProcess.start(bConfig, dir.resolve("b.log"))) {
                ManagedChannel toA = channel(a.pushPort());
                ManagedChannel toB = channel(b.port("push"));
                try (TestClient onA = login(a.port(), 7); TestClient onB = login(b.port(), 42)) {
                    Await.until("both users in the directory", () -> push(toA, false, 42, 99).getResults(0).getResult() == PushResult.SENT
                            && push(toB, false, 7).getResults(0).getResult() == PushResult.SENT);
                    while (onA.poll(200) != null || onB.poll(200) != null) {
                        // the pushes of the wait above
                    }
                    // Through A: 42 is on B, 7 on A, 99 nowhere.
                    PushToUsersReply reply = push(toA, false, 42, 7, 99);
                    assertThat(reply.getResultsList()).extracting(UserPushResult::getResult)
                            .containsExactly(PushResult.SENT, PushResult.SENT, PushResult.NOT_CONNECTED);
                    assertThat(nextPush(onB).getPushId()).as("one push id across the fleet").isEqualTo(reply.getPushId());
                    assertThat(nextPush(onA).getPushId()).isEqualTo(reply.getPushId());
                    // Acks come back across gateways too.
                    java.util.concurrent.CompletableFuture<PushToUsersReply> acked = java.util.concurrent.CompletableFuture.supplyAsync(
                            () -> push(toA, true, 42));
                    ServerPush p = nextPush(onB);
                    onB.send(ClientFrame.newBuilder().setPushAck(PushAck.newBuilder().setPushId(p.getPushId())).build());
                    assertThat(acked.get(10, TimeUnit.SECONDS).getResults(0).getResult()).isEqualTo(PushResult.DELIVERED);

                    // A service's kick through A reaches the user's connection on B.
                    Metadata auth = new Metadata();
                    auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
                    io.cellgate.protocol.v1.KickReply kicked = PushGrpc.newBlockingStub(toA)
                            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth))
                            .kick(io.cellgate.protocol.v1.KickRequest.newBuilder().addUids(42).setReconnectAfterMs(500).build());
                    assertThat(kicked.getConnections()).isEqualTo(1);
                    io.cellgate.protocol.v1.GoAway goAway = onB.next().getGoAway();
                    assertThat(goAway.getReason()).isEqualTo("kicked by a service");
                    assertThat(goAway.getReconnectAfterMs()).isEqualTo(500);
                    assertThat(onB.awaitClosed(5_000)).isTrue();
                    TestClient back = login(b.port(), 42);
                    Await.until("42 back on B", () -> push(toA, false, 42).getResults(0).getResult() == PushResult.SENT);

                    // B killed while it holds 42: its users are not connected anywhere, and A says so at once.
                    b.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    long start = System.nanoTime();
                    assertThat(push(toA, false, 42).getResults(0).getResult()).isEqualTo(PushResult.NOT_CONNECTED);
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("ms to NOT_CONNECTED").isLessThan(1_000);
                    back.close();

                    // Redis killed: users elsewhere are unknown, local pushes still go.
                    redis.kill();
                    start = System.nanoTime();
                    PushToUsersReply without = push(toA, false, 7, 42);
                    assertThat(without.getResultsList()).extracting(UserPushResult::getResult)
                            .containsExactly(PushResult.SENT, PushResult.DIRECTORY_UNAVAILABLE);
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("ms to DIRECTORY_UNAVAILABLE")
                            .isLessThan(3_000);
                    nextPush(onA);

                    // Redis back, empty: A writes its users again, so a push through another gateway finds 7 on A.
                    redis.start();
                    try (GatewayServer c = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), n -> null))) {
                        ManagedChannel toC = channel(c.pushPort());
                        try {
                            Await.until("A's users written again", () -> push(toC, false, 7).getResults(0).getResult() == PushResult.SENT);
                            assertThat(nextPush(onA).getBody().toStringUtf8()).isEqualTo("across");
                        } finally {
                            toC.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                        }
                    }
                } finally {
                    toA.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                    toB.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
            }
        }
    }
}
