package io.cellgate.perf.harness;

import io.cellgate.protocol.LoginToken;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.Ping;
import io.cellgate.protocol.v1.ServerFrame;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A generator process that opens and holds idle connections: {@code --count} of them to
 * {@code --host:--port}, from the given loopback source addresses, each logged in as its own user
 * (or, with {@code --secret none}, just connected, for a plain server). Prints
 * {@code holder: holding N (failed M)} once every connection is settled, then holds them until its
 * standard input closes. With {@code --retry true} it behaves as clients do after an outage: a refused
 * connection or login ({@code go_away} or {@code LoginAck RATE_LIMITED}) reconnects after the delay
 * the gateway asked for (1 s when none) plus jitter, until every connection is logged in; it then
 * prints {@code holder: refused R times, all in after T ms}. Several of these spread a large count over processes and source addresses,
 * each within its own open-file limit. A logged-in connection pings at the heartbeat interval its
 * {@code LoginAck} gives, as clients do; a line {@code status} on standard input prints
 * {@code holder: held N lost L pongs P} (lost: logged-in connections the server closed). Pushes are
 * acknowledged when asked; a push whose body starts with a {@link System#nanoTime} (8 bytes, big-endian)
 * has its delivery time recorded, and a line {@code pushes} prints one line per push id,
 * {@code holder: push ID COUNT HISTOGRAM} (an HdrHistogram of microseconds, compressed, base64), then
 * {@code holder: pushes done}.
 */
public final class ConnectionHolder {
    private static final ClientFrame PING = ClientFrame.newBuilder().setPing(Ping.newBuilder().setNonce(1)).build();

    private ConnectionHolder() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.of("--host", "127.0.0.1", "--port", "0", "--count", "1000",
                "--sources", "127.0.0.2", "--secret", "none", "--uid-base", "1", "--connect-rate", "4000", "--retry", "false"));
        String host = a.get("--host");
        int port = Integer.parseInt(a.get("--port"));
        int count = Integer.parseInt(a.get("--count"));
        List<String> sources = Arrays.asList(a.get("--sources").split(","));
        boolean login = !a.get("--secret").equals("none");
        LoginToken tokens = login ? new LoginToken(a.get("--secret").getBytes(StandardCharsets.UTF_8)) : null;
        long uidBase = Long.parseLong(a.get("--uid-base"));
        double connectRate = Double.parseDouble(a.get("--connect-rate"));
        boolean retry = Boolean.parseBoolean(a.get("--retry"));

        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("holder", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        AtomicInteger held = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        long expiry = System.currentTimeMillis() / 1000 + 24 * 3600;
        Bootstrap bootstrap = new Bootstrap().group(group).channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000);
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger lost = new AtomicInteger();
        AtomicLong pongs = new AtomicLong();
        PushLatencies pushes = new PushLatencies();
        long start = System.nanoTime();
        Connector connector = new Connector(bootstrap, host, port, login, tokens, expiry, held, failed, refused, retry, group, lost, pongs,
                pushes);
        for (int i = 0; i < count; i++) {
            // Paced: a burst of thousands of SYNs would overflow the listen backlog and measure that instead.
            long due = start + (long) (i * 1e9 / connectRate);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            connector.connect(uidBase + i, sources.get(i % sources.size()));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(retry ? 600 : 120);
        while (held.get() + failed.get() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (retry) {
            System.out.println("holder: refused " + refused.get() + " times, all in after "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
        }
        System.out.println("holder: holding " + held.get() + " (failed " + failed.get() + ")");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            // Hold until the scenario closes our standard input (or ends the process).
            if (line.strip().equals("status")) {
                System.out.println("holder: held " + (held.get() - lost.get()) + " lost " + lost.get() + " pongs " + pongs.get());
                System.out.flush();
            } else if (line.strip().equals("pushes")) {
                pushes.print(System.out);
                System.out.println("holder: pushes done");
                System.out.flush();
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Opens one connection and logs it in; with retry, reconnects after a refusal. */
    private record Connector(Bootstrap bootstrap, String host, int port, boolean login, LoginToken tokens, long expiry,
                             AtomicInteger held, AtomicInteger failed, AtomicInteger refused, boolean retry, EventLoopGroup group,
                             AtomicInteger lost, AtomicLong pongs, PushLatencies pushes) {

        void connect(long uid, String source) {
            bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    if (!login) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                held.incrementAndGet();
                            }
                        });
                        return;
                    }
                    ch.pipeline().addLast(new ProtobufVarint32FrameDecoder(), new ProtobufDecoder(ServerFrame.getDefaultInstance()),
                            new ProtobufVarint32LengthFieldPrepender(), new ProtobufEncoder(), new SimpleChannelInboundHandler<ServerFrame>() {
                                private boolean in;
                                private long retryAfterMillis = 1_000;
                                private java.util.concurrent.ScheduledFuture<?> pinger;

                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.writeAndFlush(ClientFrame.newBuilder().setLogin(Login.newBuilder().setUid(uid)
                                            .setToken(tokens.issue(uid, expiry)).setDevice("holder").setAppVersion("1")).build());
                                }

                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, ServerFrame frame) {
                                    if (frame.hasLoginAck()) {
                                        if (frame.getLoginAck().getCode() == Code.OK) {
                                            in = true;
                                            held.incrementAndGet();
                                            long interval = frame.getLoginAck().getHeartbeatIntervalMs();
                                            if (interval > 0) {
                                                // Spread over the interval so that thousands of clients do not ping in step.
                                                long first = java.util.concurrent.ThreadLocalRandom.current().nextLong(interval);
                                                pinger = ctx.executor().scheduleAtFixedRate(() -> {
                                                    if (ctx.channel().isActive()) {
                                                        ctx.writeAndFlush(PING);
                                                    }
                                                }, first, interval, TimeUnit.MILLISECONDS);
                                            }
                                        } else {
                                            ctx.close();
                                        }
                                    } else if (frame.hasPong()) {
                                        pongs.incrementAndGet();
                                    } else if (frame.hasPush()) {
                                        pushes.record(frame.getPush(), System.nanoTime());
                                        if (frame.getPush().getAckRequested()) {
                                            ctx.writeAndFlush(ClientFrame.newBuilder().setPushAck(io.cellgate.protocol.v1.PushAck.newBuilder()
                                                    .setPushId(frame.getPush().getPushId())).build());
                                        }
                                    } else if (frame.hasGoAway()) {
                                        retryAfterMillis = Math.max(100, frame.getGoAway().getReconnectAfterMs());
                                        ctx.close();
                                    }
                                }

                                @Override
                                public void channelInactive(ChannelHandlerContext ctx) {
                                    if (pinger != null) {
                                        pinger.cancel(false);
                                    }
                                    if (in) {
                                        lost.incrementAndGet();
                                        return;
                                    }
                                    if (retry) {
                                        refused.incrementAndGet();
                                        long delay = retryAfterMillis + java.util.concurrent.ThreadLocalRandom.current().nextLong(500);
                                        group.schedule(() -> connect(uid, source), delay, TimeUnit.MILLISECONDS);
                                    } else {
                                        failed.incrementAndGet();
                                    }
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    ctx.close();
                                }
                            });
                }
            }).connect(new InetSocketAddress(host, port), new InetSocketAddress(source, 0)).addListener(f -> {
                if (!f.isSuccess()) {
                    if (retry) {
                        refused.incrementAndGet();
                        group.schedule(() -> connect(uid, source), 1_000 + java.util.concurrent.ThreadLocalRandom.current().nextLong(500),
                                TimeUnit.MILLISECONDS);
                    } else {
                        failed.incrementAndGet();
                    }
                }
            });
        }
    }

    /** Delivery times of pushes, by push id. The holder's one event loop records; the main thread prints. */
    static final class PushLatencies {
        private final java.util.Map<Long, org.HdrHistogram.Histogram> byPush = new java.util.TreeMap<>();

        synchronized void record(io.cellgate.protocol.v1.ServerPush push, long nowNanos) {
            if (push.getBody().size() < 8) {
                return;
            }
            long sent = push.getBody().asReadOnlyByteBuffer().getLong();
            byPush.computeIfAbsent(push.getPushId(), id -> new org.HdrHistogram.Histogram(60_000_000L, 3))
                    .recordValue(Math.max(0, (nowNanos - sent) / 1_000));
        }

        synchronized void print(java.io.PrintStream out) {
            byPush.forEach((id, h) -> {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(h.getNeededByteBufferCapacity());
                int n = h.encodeIntoCompressedByteBuffer(buf);
                out.println("holder: push " + id + " " + h.getTotalCount() + " "
                        + java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n)));
            });
        }
    }
}
