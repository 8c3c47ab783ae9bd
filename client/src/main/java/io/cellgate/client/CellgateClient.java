package io.cellgate.client;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.GoAway;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.LoginAck;
import io.cellgate.protocol.v1.Ping;
import io.cellgate.protocol.v1.PushAck;
import io.cellgate.protocol.v1.Request;
import io.cellgate.protocol.v1.Response;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.protocol.v1.ServerPush;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A client of the cellgate protocol (docs/PROTOCOL.md) on one long connection: it logs in, pings at
 * the interval the gateway gives, pipelines calls (each a future with its own timeout), hands pushes
 * to a {@link ClientListener} and acknowledges them, and keeps the connection: after a {@code go_away}
 * it sends nothing new, waits for the answers in flight, and reconnects after the advised delay (plus
 * up to half of it again, at random) to the alternates the gateway named, then to its own list; after
 * a broken connection it reconnects with exponential backoff and jitter. Calls made while it is not
 * logged in wait for the next login (within their timeout), and so do calls a draining gateway
 * answered {@code SHUTTING_DOWN} (it did not forward them).
 *
 * <p>A call is answered with the gateway's {@link Response} (any {@link Code}: see docs/PROTOCOL.md for
 * what to do with each), or fails with a {@link CallFailedException} whose reason says why. Apart from
 * {@code SHUTTING_DOWN}, which the gateway sends only for a request it did not forward, calls are never
 * retried by the client: a write is at most once, and only the application knows what is safe to repeat.
 *
 * <p>All state lives on one event loop, the client's own or one the application gives (so many
 * clients share a few threads); the methods may be called from any thread. Calls made close together
 * go out in one write: a call is flushed after the calls already queued on the loop, not one by one.
 */
public final class CellgateClient implements AutoCloseable {
    private enum State { IDLE, CONNECTING, READY, DRAINING, WAITING, CLOSED }

    /** One call: waiting for a login, in flight, or done. */
    private static final class Call {
        final int cmd;
        final ByteString body;
        final long deadlineNanos;
        final long startNanos;
        final CompletableFuture<Response> future = new CompletableFuture<>();
        long seq;
        ScheduledFuture<?> timer;

        Call(int cmd, ByteString body, long startNanos, long deadlineNanos) {
            this.cmd = cmd;
            this.body = body;
            this.startNanos = startNanos;
            this.deadlineNanos = deadlineNanos;
        }
    }

    private final List<InetSocketAddress> gateways;
    private final long uid;
    private final Supplier<String> token;
    private final Login.Builder loginFields;
    private final SslContext tls;
    private final ClientListener listener;
    private final long connectTimeoutMillis;
    private final long initialBackoffNanos;
    private final long maxBackoffNanos;
    private final long defaultTimeoutNanos;
    private final int maxQueued;
    /** The loop's group when the client made it (and shuts it down on close); null on a loop the application gave. */
    private final EventLoopGroup ownGroup;
    private final EventLoop loop;
    private final Class<? extends Channel> channelType;
    private final InetSocketAddress localAddress;
    private final CompletableFuture<Void> firstLogin = new CompletableFuture<>();

    // Everything below is the event loop's only.
    private State state = State.IDLE;
    private Channel channel;
    private InetSocketAddress connectedTo;
    private final Map<Long, Call> inFlight = new HashMap<>();
    private final ArrayDeque<Call> waiting = new ArrayDeque<>();
    private long nextSeq = 1;
    private int failures;
    private int nextGateway;
    /** Connection attempts so far: a name lookup that returns after a newer attempt began is dropped. */
    private long attempts;
    private final ArrayDeque<InetSocketAddress> alternates = new ArrayDeque<>();
    /** Set by a go_away: the delay before the next connection; -1 for backoff. */
    private long advisedDelayNanos = -1;
    private boolean everLoggedIn;
    private long heartbeatNanos;
    private long lastReadNanos;
    private ScheduledFuture<?> heartbeat;
    /** A flush is queued on the loop: calls written until it runs go out with it. */
    private boolean flushPending;

    private CellgateClient(Builder b) {
        this.gateways = List.copyOf(b.gateways);
        this.uid = b.uid;
        this.token = b.token;
        this.loginFields = Login.newBuilder().setDevice(b.device).setDeviceId(b.deviceId).setAppVersion(b.appVersion);
        this.tls = b.tls;
        this.listener = b.listener;
        this.connectTimeoutMillis = b.connectTimeout.toMillis();
        this.initialBackoffNanos = b.initialBackoff.toNanos();
        this.maxBackoffNanos = b.maxBackoff.toNanos();
        this.defaultTimeoutNanos = b.defaultTimeout.toNanos();
        this.maxQueued = b.maxQueued;
        // The first socket of a JVM reads the JDK's net.properties from disk while its classes initialise:
        // let that happen here, on the caller's thread, rather than on the event loop at the first connect.
        try (java.nio.channels.SocketChannel first = java.nio.channels.SocketChannel.open()) {
            first.socket();
        } catch (java.io.IOException e) {
            // Nothing to warm; the connect reports any real problem.
        }
        this.localAddress = b.localAddress;
        if (b.loop != null) {
            this.ownGroup = null;
            this.loop = b.loop;
            this.channelType = b.channelType;
        } else {
            this.ownGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("cellgate-client", true), NioIoHandler.newFactory());
            this.loop = ownGroup.next();
            this.channelType = NioSocketChannel.class;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts connecting; the future completes at the first login, or fails if the login is refused for good or the client closes. */
    public CompletableFuture<Void> connect() {
        execute(() -> {
            if (state == State.IDLE) {
                open();
            }
        });
        return firstLogin;
    }

    /** A call with the client's default timeout. */
    public CompletableFuture<Response> call(int cmd, ByteString body) {
        return call(cmd, body, Duration.ofNanos(defaultTimeoutNanos));
    }

    /**
     * Sends request {@code cmd} with {@code body}; the future completes with the gateway's answer, or
     * fails with a {@link CallFailedException}. The timeout also goes to the gateway as the request's
     * {@code timeout_ms}.
     */
    public CompletableFuture<Response> call(int cmd, ByteString body, Duration timeout) {
        long now = System.nanoTime();
        Call call = new Call(cmd, Objects.requireNonNull(body, "body"), now, now + Math.max(1, timeout.toNanos()));
        if (!execute(() -> submit(call))) {
            call.future.completeExceptionally(new CallFailedException(CallFailedException.Reason.CLOSED, "the client is closed"));
        }
        return call.future;
    }

    /** Whether the client is logged in and sending now. */
    public boolean loggedIn() {
        return state == State.READY;
    }

    /** Closes the connection; calls not yet answered fail with {@link CallFailedException.Reason#CLOSED}. */
    @Override
    public void close() {
        execute(this::shutdown);
        if (ownGroup == null) {
            return;
        }
        io.netty.util.concurrent.Future<?> terminated = ownGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        if (!loop.inEventLoop()) {
            // From a listener (on the loop itself) it cannot wait for its own end; it ends right after.
            terminated.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    private boolean execute(Runnable task) {
        try {
            loop.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private void submit(Call call) {
        if (state == State.CLOSED) {
            fail(call, CallFailedException.Reason.CLOSED, "the client is closed");
            return;
        }
        call.timer = loop.schedule(() -> timedOut(call), Math.max(0, call.deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (state == State.READY) {
            send(call);
            flushSoon();
        } else if (waiting.size() < maxQueued) {
            waiting.add(call);
            if (state == State.IDLE) {
                open();
            }
        } else {
            fail(call, CallFailedException.Reason.NOT_CONNECTED, maxQueued + " calls already wait for a login");
        }
    }

    private void send(Call call) {
        call.seq = nextSeq++;
        inFlight.put(call.seq, call);
        long leftMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(call.deadlineNanos - System.nanoTime()));
        channel.write(ClientFrame.newBuilder().setRequest(Request.newBuilder().setSeq(call.seq).setCmd(call.cmd).setBody(call.body)
                .setTimeoutMs((int) Math.min(Integer.MAX_VALUE, leftMillis))).build(), channel.voidPromise());
    }

    /**
     * Flushes after the tasks already queued on the loop: a burst of calls from any thread (each a task)
     * goes out in one write, and a call alone waits for no timer.
     */
    private void flushSoon() {
        if (flushPending) {
            return;
        }
        flushPending = true;
        loop.execute(() -> {
            flushPending = false;
            if (channel != null) {
                channel.flush();
            }
        });
    }

    private void timedOut(Call call) {
        if (call.future.isDone()) {
            return;
        }
        if (call.seq != 0) {
            inFlight.remove(call.seq);
        } else {
            waiting.remove(call);
        }
        fail(call, CallFailedException.Reason.TIMED_OUT, "no answer within the call's timeout");
        closeIfDrained();
    }

    private void fail(Call call, CallFailedException.Reason reason, String message) {
        if (call.timer != null) {
            call.timer.cancel(false);
        }
        if (call.future.completeExceptionally(new CallFailedException(reason, message))) {
            listener.callEnded(call.cmd, null, reason, System.nanoTime() - call.startNanos);
        }
    }

    private InetSocketAddress nextAddress() {
        InetSocketAddress alternate = alternates.poll();
        if (alternate != null) {
            return alternate;
        }
        InetSocketAddress a = gateways.get(nextGateway % gateways.size());
        nextGateway++;
        return a;
    }

    private void open() {
        state = State.CONNECTING;
        long attempt = ++attempts;
        InetSocketAddress address = nextAddress();
        connectedTo = address;
        if (!address.isUnresolved()) {
            connect(address, address);
            return;
        }
        // A name lookup blocks: it runs on a pool thread, never on the client's event loop.
        CompletableFuture.supplyAsync(() -> new InetSocketAddress(address.getHostString(), address.getPort())).whenComplete(
                (resolved, e) -> execute(() -> {
                    if (state != State.CONNECTING || attempts != attempt) {
                        return;
                    }
                    if (resolved == null || resolved.isUnresolved()) {
                        reconnectLater(address, "cannot resolve " + address.getHostString());
                    } else {
                        connect(address, resolved);
                    }
                }));
    }

    private void connect(InetSocketAddress address, InetSocketAddress resolved) {
        Bootstrap bootstrap = new Bootstrap().group(loop).channel(channelType)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), address.getHostString(), address.getPort()));
                        }
                        ch.pipeline().addLast(new ProtobufVarint32FrameDecoder(), new ProtobufDecoder(ServerFrame.getDefaultInstance()),
                                new ProtobufVarint32LengthFieldPrepender(), new ProtobufEncoder(), new Handler());
                    }
                });
        ChannelFuture connecting = localAddress == null ? bootstrap.connect(resolved) : bootstrap.connect(resolved, localAddress);
        channel = connecting.channel();
        connecting.addListener(f -> {
            if (!f.isSuccess() && state != State.CLOSED) {
                reconnectLater(address, "cannot connect: " + f.cause());
            }
        });
    }

    private void reconnectLater(InetSocketAddress from, String why) {
        long delay;
        if (advisedDelayNanos >= 0) {
            delay = advisedDelayNanos + (advisedDelayNanos > 0 ? ThreadLocalRandom.current().nextLong(advisedDelayNanos / 2 + 1) : 0);
            advisedDelayNanos = -1;
        } else {
            failures++;
            long base = Math.min(maxBackoffNanos, initialBackoffNanos << Math.min(20, failures - 1));
            delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
        }
        state = State.WAITING;
        channel = null;
        listener.disconnected(from, why, TimeUnit.NANOSECONDS.toMillis(delay));
        loop.schedule(() -> {
            if (state == State.WAITING) {
                open();
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    private void loggedIn(Channel ch, LoginAck ack) {
        state = State.READY;
        failures = 0;
        everLoggedIn = true;
        heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(100, ack.getHeartbeatIntervalMs()));
        heartbeat = loop.scheduleAtFixedRate(() -> ping(ch), heartbeatNanos, heartbeatNanos, TimeUnit.NANOSECONDS);
        listener.loggedIn(connectedTo, ack.getSessionId());
        firstLogin.complete(null);
        for (Call call; (call = waiting.poll()) != null; ) {
            if (!call.future.isDone()) {
                send(call);
            }
        }
        ch.flush();
    }

    private void ping(Channel ch) {
        if (System.nanoTime() - lastReadNanos > 3 * heartbeatNanos) {
            // Nothing heard for three intervals, pongs included: the gateway or the path is gone.
            ch.close();
            return;
        }
        ch.writeAndFlush(ClientFrame.newBuilder().setPing(Ping.newBuilder().setNonce(System.nanoTime())).build(), ch.voidPromise());
    }

    private void loginRefused(Channel ch, LoginAck ack) {
        // A refusal that another attempt can cure (a login storm, a session limit, a token that the
        // supplier may renew) is retried after a backoff; bad login fields, or a token refused before
        // any login succeeded, are the caller's to fix.
        boolean fatal = ack.getCode() == Code.INVALID_REQUEST || (ack.getCode() == Code.UNAUTHENTICATED && !everLoggedIn);
        listener.loginRefused(connectedTo, ack.getCode(), ack.getMessage(), fatal);
        if (fatal) {
            String why = "login refused: " + ack.getCode() + " " + ack.getMessage();
            shutdown(why);
            return;
        }
        ch.close();
    }

    private void goAway(GoAway goAway) {
        listener.goAway(connectedTo, goAway);
        alternates.clear();
        for (String alternate : goAway.getAlternatesList()) {
            try {
                alternates.add(hostPort(alternate));
            } catch (IllegalArgumentException e) {
                // A malformed alternate is skipped; the configured gateways remain.
            }
        }
        advisedDelayNanos = TimeUnit.MILLISECONDS.toNanos(goAway.getReconnectAfterMs());
        if (state == State.READY || state == State.CONNECTING) {
            state = State.DRAINING;
        }
        closeIfDrained();
    }

    /** A draining connection closes once its last answer is in (the gateway closes it too, at the latest at its drain timeout). */
    private void closeIfDrained() {
        if (state == State.DRAINING && inFlight.isEmpty() && channel != null) {
            channel.close();
        }
    }

    private void answered(Response response) {
        Call call = inFlight.remove(response.getSeq());
        if (call == null) {
            return; // timed out already
        }
        if (response.getCode() == Code.SHUTTING_DOWN) {
            // The draining gateway refused it without forwarding it (it reached the gateway after the
            // go_away): safe to send again, so it waits for the next gateway, within its timeout.
            call.seq = 0;
            waiting.add(call);
            closeIfDrained();
            return;
        }
        call.timer.cancel(false);
        if (call.future.complete(response)) {
            listener.callEnded(call.cmd, response.getCode(), null, System.nanoTime() - call.startNanos);
        }
        closeIfDrained();
    }

    private void pushed(Channel ch, ServerPush push) {
        listener.push(push);
        if (push.getAckRequested()) {
            ch.writeAndFlush(ClientFrame.newBuilder().setPushAck(PushAck.newBuilder().setPushId(push.getPushId())).build(), ch.voidPromise());
        }
    }

    private void disconnected(Channel ch) {
        if (heartbeat != null) {
            heartbeat.cancel(false);
            heartbeat = null;
        }
        List<Call> lost = new ArrayList<>(inFlight.values());
        inFlight.clear();
        for (Call call : lost) {
            fail(call, CallFailedException.Reason.CONNECTION_LOST, "the connection to " + connectedTo + " closed before the answer");
        }
        if (state != State.CLOSED && ch == channel) {
            reconnectLater(connectedTo, advisedDelayNanos >= 0 ? "go_away" : "connection closed");
        }
    }

    private void shutdown() {
        shutdown("the client is closed");
    }

    private void shutdown(String why) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        if (channel != null) {
            channel.close();
        }
        List<Call> all = new ArrayList<>(inFlight.values());
        all.addAll(waiting);
        inFlight.clear();
        waiting.clear();
        for (Call call : all) {
            fail(call, CallFailedException.Reason.CLOSED, why);
        }
        firstLogin.completeExceptionally(new CallFailedException(CallFailedException.Reason.CLOSED, why));
    }

    /** {@code host:port} or {@code [v6]:port}, not looked up; IllegalArgumentException when it is neither. */
    static InetSocketAddress hostPort(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(text + " (expected: host:port)");
        }
        return InetSocketAddress.createUnresolved(text.substring(0, colon).replace("[", "").replace("]", ""),
                Integer.parseInt(text.substring(colon + 1)));
    }

    /** The connection's last step: frames from the gateway, on the client's loop. */
    private final class Handler extends SimpleChannelInboundHandler<ServerFrame> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            lastReadNanos = System.nanoTime();
            ctx.writeAndFlush(ClientFrame.newBuilder().setLogin(loginFields.clone().setUid(uid).setToken(token.get())).build(),
                    ctx.voidPromise());
            ctx.fireChannelActive();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ServerFrame frame) {
            lastReadNanos = System.nanoTime();
            switch (frame.getKindCase()) {
                case LOGIN_ACK -> {
                    if (state != State.CONNECTING) {
                        return;
                    }
                    if (frame.getLoginAck().getCode() == Code.OK) {
                        loggedIn(ctx.channel(), frame.getLoginAck());
                    } else {
                        loginRefused(ctx.channel(), frame.getLoginAck());
                    }
                }
                case RESPONSE -> answered(frame.getResponse());
                case PUSH -> pushed(ctx.channel(), frame.getPush());
                case GO_AWAY -> goAway(frame.getGoAway());
                default -> {
                    // Pongs only show the connection is alive (lastReadNanos); frames of a newer protocol are skipped.
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            disconnected(ctx.channel());
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A reset or a TLS failure: the connection is over; channelInactive reconnects.
            ctx.close();
        }
    }

    /** The client's settings. */
    public static final class Builder {
        private final List<InetSocketAddress> gateways = new ArrayList<>();
        private long uid;
        private Supplier<String> token;
        private String device = "";
        private String deviceId = "";
        private String appVersion = "";
        private SslContext tls;
        private ClientListener listener = new ClientListener() {
        };
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(10);
        private Duration defaultTimeout = Duration.ofSeconds(10);
        private int maxQueued = 10_000;
        private EventLoop loop;
        private Class<? extends Channel> channelType;
        private InetSocketAddress localAddress;

        private Builder() {
        }

        /**
         * Lives on {@code loop} (not shut down by {@link #close}) with channels of {@code channelType}, which
         * must suit the loop's transport (e.g. {@code EpollSocketChannel} on an epoll loop): many clients on
         * a few threads. Without it each client makes a loop of its own.
         */
        public Builder eventLoop(EventLoop loop, Class<? extends Channel> channelType) {
            this.loop = Objects.requireNonNull(loop, "loop");
            this.channelType = Objects.requireNonNull(channelType, "channelType");
            return this;
        }

        /** The local address to connect from (e.g. one of several source addresses); the system picks one otherwise. */
        public Builder localAddress(InetSocketAddress address) {
            this.localAddress = address;
            return this;
        }

        /** A gateway to connect to, {@code host:port}; several are tried in turn. */
        public Builder gateway(String hostPort) {
            return gateway(hostPort(hostPort));
        }

        public Builder gateway(InetSocketAddress address) {
            gateways.add(address);
            return this;
        }

        /**
         * Logs in as {@code uid} with the token {@code token} gives at each login (so it may renew it). It is
         * called on the client's event loop: return a token at hand, never block for one.
         */
        public Builder login(long uid, Supplier<String> token) {
            this.uid = uid;
            this.token = token;
            return this;
        }

        /** The login's device fields (docs/PROTOCOL.md, "Client-chosen strings"). */
        public Builder device(String device, String deviceId, String appVersion) {
            this.device = device;
            this.deviceId = deviceId;
            this.appVersion = appVersion;
            return this;
        }

        /** TLS to the gateway (a Netty client context); the host name given is verified when the context does. */
        public Builder tls(SslContext tls) {
            this.tls = tls;
            return this;
        }

        public Builder listener(ClientListener listener) {
            this.listener = Objects.requireNonNull(listener);
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        /** Reconnect delays after failures: from {@code initial}, doubling to {@code max}, each drawn from its upper half. */
        public Builder backoff(Duration initial, Duration max) {
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        public Builder defaultTimeout(Duration timeout) {
            this.defaultTimeout = timeout;
            return this;
        }

        /** Calls that may wait for a login at once; more fail with NOT_CONNECTED. */
        public Builder maxQueued(int calls) {
            this.maxQueued = calls;
            return this;
        }

        public CellgateClient build() {
            if (gateways.isEmpty() || token == null) {
                throw new IllegalStateException("a client needs at least one gateway and a login");
            }
            return new CellgateClient(this);
        }
    }
}
