package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.BroadcastRequest;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.PushAck;
import io.cellgate.protocol.v1.PushGrpc;
import io.cellgate.protocol.v1.PushMessage;
import io.cellgate.protocol.v1.PushResult;
import io.cellgate.protocol.v1.PushSummary;
import io.cellgate.protocol.v1.PushToTopicRequest;
import io.cellgate.protocol.v1.PushToUsersReply;
import io.cellgate.protocol.v1.PushToUsersRequest;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.protocol.v1.ServerPush;
import io.cellgate.protocol.v1.TopicMembersRequest;
import io.cellgate.protocol.v1.UserPushResult;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The push API over real gRPC and real client sockets: to users, topics and everyone, with acks, bounds and slow readers. */
class PushTest {
    private static final String TOKEN = "push-token-0123456789";
    private static TestAo sz;
    private static TestAo sh;
    private static GatewayServer gateway;
    private static ManagedChannel channel;
    private static PushGrpc.PushBlockingStub push;

    @BeforeAll
    static void start() throws Exception {
        sz = new TestAo("sz-a");
        sh = new TestAo("sh-a");
        GatewayYaml yaml = GatewayYaml.testTopology(sz.address(), sh.address()).heartbeat("2s")
                .limit("max-outbound-bytes-per-connection", 1 << 20)
                .section("push:\n  listen: 127.0.0.1:0\n  token: " + TOKEN + "\n  rate-per-connection: 1000\n  topic-rate: 1000\n");
        gateway = GatewayServer.start(GatewayConfig.parse(yaml.build(), Path.of("."), n -> null));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.pushPort()).usePlaintext().build();
        push = stub(TOKEN);
    }

    private static PushGrpc.PushBlockingStub stub(String token) {
        Metadata auth = new Metadata();
        auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return PushGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        gateway.close();
        sz.close();
        sh.close();
    }

    private static TestClient login(long uid) throws Exception {
        TestClient c = new TestClient(gateway.port());
        c.login(uid, TestTopology.token(uid));
        assertThat(c.next().getLoginAck().getCode()).isEqualTo(Code.OK);
        return c;
    }

    private static PushMessage message(String body, int priority) {
        return PushMessage.newBuilder().setCmd(700).setBody(ByteString.copyFromUtf8(body)).setPriority(priority).build();
    }

    private static ServerPush nextPush(TestClient c) throws Exception {
        ServerFrame frame = c.next();
        assertThat(frame.hasPush()).as("%s", frame).isTrue();
        return frame.getPush();
    }

    @Test
    void aPushReachesEveryConnectionOfEachUserAndSaysWhoIsNotConnected() throws Exception {
        try (TestClient phone = login(101); TestClient tablet = login(101); TestClient other = login(102)) {
            PushToUsersReply reply = push.pushToUsers(PushToUsersRequest.newBuilder().addUids(101).addUids(103).addUids(102)
                    .addUids(101).setMessage(message("hello", 1)).build());
            assertThat(reply.getResultsList()).extracting(UserPushResult::getUid).containsExactly(101L, 103L, 102L, 101L);
            assertThat(reply.getResultsList()).extracting(UserPushResult::getResult)
                    .containsExactly(PushResult.SENT, PushResult.NOT_CONNECTED, PushResult.SENT, PushResult.SENT);
            assertThat(reply.getResults(0).getConnections()).isEqualTo(2);
            assertThat(reply.getResults(0).getReached()).isEqualTo(2);
            for (TestClient c : new TestClient[] {phone, tablet, other}) {
                ServerPush p = nextPush(c);
                assertThat(p.getPushId()).isEqualTo(reply.getPushId());
                assertThat(p.getCmd()).isEqualTo(700);
                assertThat(p.getBody().toStringUtf8()).isEqualTo("hello");
                assertThat(p.getPriority()).isEqualTo(1);
                assertThat(p.getAckRequested()).isFalse();
                assertThat(p.getTopic()).isEmpty();
                // Pushed once: nothing more arrives, though the user was named twice.
                assertThat(c.poll(100)).isNull();
            }
        }
    }

    @Test
    void withAcksTheReplySaysWhoReceivedItAndWhoDidNotInTime() throws Exception {
        try (TestClient acking = login(201); TestClient silent = login(202)) {
            PushMessage m = message("ack me", 0).toBuilder().setAck(true).setAckTimeoutMs(400).build();
            java.util.concurrent.CompletableFuture<PushToUsersReply> reply = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> push.pushToUsers(PushToUsersRequest.newBuilder().addUids(201).addUids(202).addUids(203).setMessage(m).build()));
            ServerPush p = nextPush(acking);
            assertThat(p.getAckRequested()).isTrue();
            acking.send(ClientFrame.newBuilder().setPushAck(PushAck.newBuilder().setPushId(p.getPushId())).build());
            assertThat(nextPush(silent).getPushId()).isEqualTo(p.getPushId());
            long start = System.nanoTime();
            PushToUsersReply r = reply.get(10, TimeUnit.SECONDS);
            assertThat(r.getResultsList()).extracting(UserPushResult::getResult)
                    .containsExactly(PushResult.DELIVERED, PushResult.NOT_ACKNOWLEDGED, PushResult.NOT_CONNECTED);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
            // A late or repeated ack is counted and ignored.
            long unknown = gateway.context().counters().pushAcksUnknown();
            silent.send(ClientFrame.newBuilder().setPushAck(PushAck.newBuilder().setPushId(p.getPushId())).build());
            Await.until("the late ack counted", () -> gateway.context().counters().pushAcksUnknown() == unknown + 1);
            silent.send(TestClient.request(1, TestTopology.READ, "still served"));
            assertThat(silent.next().getResponse().getCode()).isEqualTo(Code.OK);
        }
    }

    @Test
    void aClosedConnectionEndsItsAckWaitAtOnce() throws Exception {
        TestClient leaving = login(301);
        PushMessage m = message("bye", 0).toBuilder().setAck(true).setAckTimeoutMs(60_000).build();
        java.util.concurrent.CompletableFuture<PushToUsersReply> reply = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> push.pushToUsers(PushToUsersRequest.newBuilder().addUids(301).setMessage(m).build()));
        nextPush(leaving);
        leaving.close();
        assertThat(reply.get(10, TimeUnit.SECONDS).getResults(0).getResult()).isEqualTo(PushResult.NOT_ACKNOWLEDGED);
    }

    @Test
    void topicsReachTheirMembersAndBroadcastReachesEveryone() throws Exception {
        try (TestClient a = login(401); TestClient b = login(402); TestClient c = login(403)) {
            assertThat(push.joinTopic(TopicMembersRequest.newBuilder().setTopic("room:1").addUids(401).addUids(402).addUids(499).build())
                    .getMembers()).isEqualTo(3);
            PushSummary room = push.pushToTopic(PushToTopicRequest.newBuilder().setTopic("room:1").setMessage(message("to the room", 2))
                    .build());
            assertThat(room.getUsers()).isEqualTo(3);
            assertThat(room.getConnections()).isEqualTo(2);
            assertThat(room.getSent()).isEqualTo(2);
            assertThat(nextPush(a).getTopic()).isEqualTo("room:1");
            assertThat(nextPush(b).getBody().toStringUtf8()).isEqualTo("to the room");
            assertThat(c.poll(100)).isNull();

            assertThat(push.leaveTopic(TopicMembersRequest.newBuilder().setTopic("room:1").addUids(401).build()).getMembers()).isEqualTo(2);
            push.pushToTopic(PushToTopicRequest.newBuilder().setTopic("room:1").setMessage(message("again", 2)).build());
            assertThat(nextPush(b).getBody().toStringUtf8()).isEqualTo("again");
            assertThat(a.poll(100)).isNull();

            PushSummary all = push.broadcast(BroadcastRequest.newBuilder().setMessage(message("everyone", 3)).build());
            assertThat(all.getConnections()).isGreaterThanOrEqualTo(3);
            for (TestClient t : new TestClient[] {a, b, c}) {
                assertThat(nextPush(t).getBody().toStringUtf8()).isEqualTo("everyone");
            }
            assertThatThrownBy(() -> push.pushToTopic(PushToTopicRequest.newBuilder().setTopic("bad topic").setMessage(message("x", 0))
                    .build())).isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT")
                    .hasMessageContaining("letters, digits or ._:-");
        }
    }

    @Test
    void pushesAndResponsesShareAConnectionInOrder() throws Exception {
        try (TestClient c = login(501)) {
            List<Long> pushIds = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                c.send(TestClient.request(i + 1, TestTopology.READ, "r" + i));
                pushIds.add(push.pushToUsers(PushToUsersRequest.newBuilder().addUids(501).setMessage(message("p" + i, 1)).build())
                        .getPushId());
            }
            List<Long> seen = new ArrayList<>();
            int responses = 0;
            while (responses < 50 || seen.size() < 50) {
                ServerFrame f = c.next();
                if (f.hasPush()) {
                    seen.add(f.getPush().getPushId());
                } else {
                    assertThat(f.getResponse().getCode()).isEqualTo(Code.OK);
                    responses++;
                }
            }
            assertThat(seen).containsExactlyElementsOf(pushIds);
        }
    }

    @Test
    void underDegradationPushesAreShedByPriorityP0Last() throws Exception {
        try (TestClient c = login(701)) {
            long shedBefore = gateway.context().counters().pushes().get("dropped_overload");
            gateway.onControl(() -> {
                gateway.context().degrade(io.cellgate.limit.Priority.P1);
                return null;
            });
            try {
                assertThat(push.pushToUsers(PushToUsersRequest.newBuilder().addUids(701).setMessage(message("p2", 2)).build())
                        .getResults(0).getResult()).isEqualTo(PushResult.DROPPED);
                assertThat(push.pushToUsers(PushToUsersRequest.newBuilder().addUids(701).setMessage(message("p1", 1)).build())
                        .getResults(0).getResult()).isEqualTo(PushResult.SENT);
                assertThat(push.pushToUsers(PushToUsersRequest.newBuilder().addUids(701).setMessage(message("p0", 0)).build())
                        .getResults(0).getResult()).isEqualTo(PushResult.SENT);
                assertThat(nextPush(c).getBody().toStringUtf8()).isEqualTo("p1");
                assertThat(nextPush(c).getBody().toStringUtf8()).isEqualTo("p0");
                assertThat(gateway.context().counters().pushes().get("dropped_overload")).isEqualTo(shedBefore + 1);
            } finally {
                gateway.onControl(() -> {
                    gateway.context().degrade(null);
                    return null;
                });
            }
        }
    }

    @Test
    void badCallsAreRefusedWithWhatWasWrong() {
        assertThatThrownBy(() -> stub("wrong").broadcast(BroadcastRequest.newBuilder().setMessage(message("x", 0)).build()))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("UNAUTHENTICATED").hasMessageContaining("push token");
        assertThatThrownBy(() -> push.pushToUsers(PushToUsersRequest.newBuilder().addUids(1).setMessage(message("x", 4)).build()))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("message.priority: 4 (expected: 0 to 3");
        PushMessage big = PushMessage.newBuilder().setBody(ByteString.copyFrom(new byte[70_000])).build();
        assertThatThrownBy(() -> push.pushToUsers(PushToUsersRequest.newBuilder().addUids(1).setMessage(big).build()))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("limits.max-frame-bytes");
    }

    @Test
    void aSlowReaderIsPausedThenClosedAndOthersPushesAreNotDelayed() throws Exception {
        // A raw socket with a small receive window that logs in and then never reads again.
        try (Socket slow = new Socket(); TestClient fast = login(602)) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new java.net.InetSocketAddress("127.0.0.1", gateway.port()));
            ClientFrame.newBuilder().setLogin(io.cellgate.protocol.v1.Login.newBuilder().setUid(601).setToken(TestTopology.token(601)))
                    .build().writeDelimitedTo(slow.getOutputStream());
            InputStream in = slow.getInputStream();
            assertThat(ServerFrame.parseDelimitedFrom(in).getLoginAck().getCode()).isEqualTo(Code.OK);
            Await.until("the slow reader's login", () -> !gateway.context().sessionsOf(601).isEmpty());
            long closedBefore = gateway.context().counters().slowReadersClosed();
            long slowBefore = gateway.context().counters().pushes().get("dropped_slow_reader");
            long closingBefore = gateway.context().counters().pushes().get("dropped_closing");
            PushMessage heavy = message("x".repeat(60_000), 2);
            int dropped = 0;
            long worstMillis = 0;
            for (int i = 0; i < 2_000 && !gateway.context().sessionsOf(601).isEmpty(); i++) {
                PushToUsersReply r = push.pushToUsers(PushToUsersRequest.newBuilder().addUids(601).addUids(602).setMessage(heavy).build());
                if (r.getResults(0).getResult() == PushResult.DROPPED) {
                    dropped++;
                }
                assertThat(r.getResults(1).getResult()).isEqualTo(PushResult.SENT);
                long start = System.nanoTime();
                assertThat(nextPush(fast).getPushId()).isEqualTo(r.getPushId());
                worstMillis = Math.max(worstMillis, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
            Await.until("the slow reader's close", () -> gateway.context().counters().slowReadersClosed() > closedBefore);
            assertThat(dropped).as("pushes refused while the slow reader was paused; %s", gateway.context().counters().pushes())
                    .isPositive();
            // Dropped while paused (slow reader), or, for a push racing the close, while closing: the
            // loop stops when the connection leaves the index, which comes after its close.
            long paused = gateway.context().counters().pushes().get("dropped_slow_reader") - slowBefore;
            long closing = gateway.context().counters().pushes().get("dropped_closing") - closingBefore;
            assertThat(paused).as("pushes dropped as to a slow reader").isPositive();
            assertThat(paused + closing).isEqualTo(dropped);
            Await.until("the slow reader out of the index", () -> gateway.context().sessionsOf(601).isEmpty());
            assertThat(worstMillis).as("the fast reader's longest wait for a push (ms)").isLessThan(2_000);
        }
    }
}
