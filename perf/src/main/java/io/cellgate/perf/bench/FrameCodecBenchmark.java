package io.cellgate.perf.bench;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Request;
import io.cellgate.protocol.v1.Response;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.codec.FrameCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The client protocol's codec, per frame: the gateway's decoder (varint length checked against the
 * limit before buffering, parsed straight out of the cumulation) against Netty's stock
 * varint-frame + protobuf decoder pair, and the gateway's encoder (exact-size buffer). Each runs in an
 * {@link EmbeddedChannel}, so the pipeline's own cost per message is included.
 *
 * <p>{@code perf/run-jmh.sh FrameCodecBenchmark -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class FrameCodecBenchmark {
    @Param({"64", "1024"})
    int payloadBytes;

    private EmbeddedChannel cellgateDecoder;
    private EmbeddedChannel nettyDecoder;
    private EmbeddedChannel encoder;
    private ByteBuf requestBytes;
    private ServerFrame response;

    @Setup(Level.Trial)
    public void setUp() {
        ByteString body = ByteString.copyFrom(new byte[payloadBytes]);
        ClientFrame request = ClientFrame.newBuilder().setRequest(Request.newBuilder().setSeq(123456).setCmd(1).setBody(body)).build();
        byte[] bytes = request.toByteArray();
        requestBytes = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length + 5);
        int n = bytes.length;
        while ((n & ~0x7F) != 0) {
            requestBytes.writeByte((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        requestBytes.writeByte(n);
        requestBytes.writeBytes(bytes);
        response = ServerFrame.newBuilder().setResponse(Response.newBuilder().setSeq(123456).setCode(Code.OK).setBody(body)).build();
        cellgateDecoder = new EmbeddedChannel(FrameCodec.clientFrameDecoder(1 << 20, new LongAdder()));
        nettyDecoder = new EmbeddedChannel(new ProtobufVarint32FrameDecoder(), new ProtobufDecoder(ClientFrame.getDefaultInstance()));
        encoder = new EmbeddedChannel(FrameCodec.serverFrameEncoder());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        requestBytes.release();
        cellgateDecoder.finishAndReleaseAll();
        nettyDecoder.finishAndReleaseAll();
        encoder.finishAndReleaseAll();
    }

    @Benchmark
    public Object decodeCellgate() {
        cellgateDecoder.writeInbound(requestBytes.retainedDuplicate());
        return cellgateDecoder.readInbound();
    }

    @Benchmark
    public Object decodeNettyProtobuf() {
        nettyDecoder.writeInbound(requestBytes.retainedDuplicate());
        return nettyDecoder.readInbound();
    }

    @Benchmark
    public int encodeCellgate() {
        encoder.writeOutbound(response);
        ByteBuf out = encoder.readOutbound();
        int size = out.readableBytes();
        out.release();
        return size;
    }
}
