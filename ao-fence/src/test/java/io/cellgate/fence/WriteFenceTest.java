package io.cellgate.fence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fence on a real gRPC server on loopback: what it lets through and what it refuses. */
class WriteFenceTest {
    private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<String, String> PUT = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Kv/Put")
            .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

    private final WriteFence fence = new WriteFence();
    private final AtomicInteger served = new AtomicInteger();
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws IOException {
        ServerServiceDefinition kv = ServerServiceDefinition.builder("test.Kv")
                .addMethod(PUT, ServerCalls.asyncUnaryCall((request, observer) -> {
                    served.incrementAndGet();
                    observer.onNext("ok " + request);
                    observer.onCompleted();
                })).build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).intercept(fence).addService(kv).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private String call(String routeClass, Long routeEpoch, Long fenceEpoch) {
        Metadata headers = new Metadata();
        if (routeClass != null) {
            headers.put(FenceHeaders.ROUTE_CLASS, routeClass);
        }
        if (routeEpoch != null) {
            headers.put(FenceHeaders.ROUTE_EPOCH, Long.toString(routeEpoch));
        }
        if (fenceEpoch != null) {
            headers.put(FenceHeaders.FENCE_EPOCH, Long.toString(fenceEpoch));
        }
        return ClientCalls.blockingUnaryCall(io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
                PUT, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x");
    }

    @Test
    void beforeAnyFenceEveryCallPasses() {
        assertThat(call("write", 2L, null)).isEqualTo("ok x");
        assertThat(call("center", 2L, null)).isEqualTo("ok x");
        assertThat(call(null, null, null)).isEqualTo("ok x");
        assertThat(fence.fence()).isZero();
        assertThat(served).hasValue(3);
    }

    @Test
    void onceToldOfAFenceItRefusesOlderWritesAndPassesReadsAndNewerWrites() {
        // A gateway with current routes (epoch 15) tells the AO its city was forbidden at epoch 13.
        assertThat(call("read", 15L, 13L)).isEqualTo("ok x");
        assertThat(fence.fence()).isEqualTo(13);
        // A gateway that missed the switch still writes under epoch 2: refused, with the fence in the trailer.
        for (String routeClass : new String[] {"write", "center"}) {
            assertThatThrownBy(() -> call(routeClass, 2L, null)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.getStatus().getDescription()).contains("route epoch 2", "fence 13");
                assertThat(e.getTrailers().get(FenceHeaders.FENCED)).isEqualTo("13");
            });
        }
        // Its reads still pass; writes at or after the fence pass; a call cannot lower the fence.
        assertThat(call("read", 2L, null)).isEqualTo("ok x");
        assertThat(call("write", 13L, 13L)).isEqualTo("ok x");
        assertThat(call("write", 16L, 5L)).isEqualTo("ok x");
        assertThat(fence.fence()).isEqualTo(13);
        assertThat(fence.refused()).isEqualTo(2);
        assertThat(served).hasValue(4);
    }

    @Test
    void aCallCarryingANewerFenceThanItsOwnEpochIsRefusedAtOnce() {
        // The header raises the fence before the check: a write under epoch 9 told of fence 10 is late.
        assertThatThrownBy(() -> call("write", 9L, 10L)).isInstanceOf(StatusRuntimeException.class);
        assertThat(fence.fence()).isEqualTo(10);
        assertThat(served).hasValue(0);
    }

    @Test
    void malformedHeadersNeitherMoveTheFenceNorBreakTheCall() {
        Metadata headers = new Metadata();
        headers.put(FenceHeaders.FENCE_EPOCH, "12x");
        headers.put(FenceHeaders.ROUTE_EPOCH, "-3");
        headers.put(FenceHeaders.ROUTE_CLASS, "write");
        String answer = ClientCalls.blockingUnaryCall(io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
                PUT, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x");
        assertThat(answer).isEqualTo("ok x");
        assertThat(fence.fence()).isZero();
        Metadata overflow = new Metadata();
        overflow.put(FenceHeaders.FENCE_EPOCH, "9999999999999999999");
        ClientCalls.blockingUnaryCall(io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(overflow)),
                PUT, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x");
        assertThat(fence.fence()).as("a value past Long.MAX_VALUE").isZero();
        assertThat(call("read", 1L, 99999999999999999L)).isEqualTo("ok x");
        assertThat(fence.fence()).isEqualTo(99999999999999999L);
        assertThatThrownBy(() -> new WriteFence(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
