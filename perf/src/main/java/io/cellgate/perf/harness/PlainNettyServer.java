package io.cellgate.perf.harness;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * The baseline of the connections scenario: a Netty server with the gateway's transport and event
 * loop count that accepts connections and holds them, with nothing per connection but Netty's own
 * channel and pipeline. What the gateway holds beyond this is the cost of its own state.
 */
public final class PlainNettyServer {
    private PlainNettyServer() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.of("--port", "0", "--threads", "2"));
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("boss"),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(Integer.parseInt(a.get("--threads")),
                new DefaultThreadFactory("worker"), epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Channel server = new ServerBootstrap().group(boss, workers)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public boolean isSharable() {
                        return true;
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(a.get("--port")))).sync().channel();
        System.out.println("plain netty: listening on port " + ((InetSocketAddress) server.localAddress()).getPort());
        server.closeFuture().sync();
    }
}
