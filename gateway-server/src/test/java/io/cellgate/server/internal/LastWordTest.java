package io.cellgate.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The last frame to a peer that never takes it: the connection is closed at the close timeout anyway. */
class LastWordTest {
    /** A socket whose peer never reads: writes are taken and never complete. */
    private static final class NeverWritten extends ChannelOutboundHandlerAdapter {
        int writes;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            writes++;
            ReferenceCountUtil.release(msg);
        }
    }

    @Test
    void aLastWordThatIsNeverWrittenStillClosesAtTheTimeout() {
        NeverWritten stuck = new NeverWritten();
        EmbeddedChannel ch = new EmbeddedChannel(stuck);
        ch.pipeline().addLast(ClientFrameSource.NAME, new ClientFrameCodec(1024, new java.util.concurrent.atomic.LongAdder()));
        LastWord.sayAndClose(ch, Frames.goAway(Code.BAD_FRAME, "bad", 0, List.of()));
        assertThat(stuck.writes).isEqualTo(1);
        // What the peer sends after the last word is read and dropped: a whole valid ping frame yields nothing.
        byte[] ping = io.cellgate.protocol.v1.ClientFrame.newBuilder().setPing(io.cellgate.protocol.v1.Ping.newBuilder().setNonce(1))
                .build().toByteArray();
        io.netty.buffer.ByteBuf in = io.netty.buffer.Unpooled.buffer().writeByte(ping.length).writeBytes(ping);
        assertThat(ch.writeInbound(in)).isFalse();
        Object decoded = ch.readInbound();
        assertThat(decoded).isNull();
        ch.advanceTimeBy(1_900, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).as("within the close timeout (2 s without a gateway context)").isTrue();
        ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).as("past the close timeout").isFalse();
    }

    @Test
    void aLastWordThatIsWrittenClosesAtOnceAndCancelsTheTimer() {
        EmbeddedChannel ch = new EmbeddedChannel();
        LastWord.sayAndClose(ch, Frames.goAway(Code.OK, "idle", 0, List.of()));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        Object written = ch.readOutbound();
        assertThat(written).isNotNull();
        ch.advanceTimeBy(5, TimeUnit.SECONDS);
        assertThat(ch.runScheduledPendingTasks()).as("no timer left").isEqualTo(-1);
    }
}
