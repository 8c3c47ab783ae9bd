package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.testkit.BlockHoundExtension;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The blocking check itself: a sleep on a Netty event loop is caught (so a clean suite means something). */
class BlockHoundSelfTest {
    @Test
    void aSleepOnAnEventLoopIsCaught() throws Exception {
        BlockHoundExtension.takeViolations();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            group.next().submit(() -> {
                Thread.sleep(1);
                return null;
            }).get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException expected) {
            // BlockHound may also throw in the offending thread; the record is what the suite relies on.
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        }
        assertThat(BlockHoundExtension.takeViolations()).anySatisfy(v -> assertThat(v).contains("sleep"));
    }
}
