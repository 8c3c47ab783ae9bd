package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The lean gRPC client of one AO endpoint on one event loop ({@code upstream.channel-mode: lean}):
 * unary calls with byte bodies on Netty's HTTP/2 codec, with no call machinery between the client
 * connection's frame and the HTTP/2 stream. It does what the gateway's pass-through calls need of a
 * gRPC client and no more: deadlines ({@code grpc-timeout} and a local timer that resets the stream),
 * cancellation, flow control, many calls per connection (over the AO's stream limit they wait in the
 * codec), GOAWAY (calls the AO never saw end {@code UNAVAILABLE}; new calls go to a new connection), a
 * ping when a call times out (at most one a minute; no answer in 10 s ends the connection), and gRPC's connection states and
 * reconnect backoff, so the set health tracker treats it as it treats a gRPC channel. Health checks,
 * fence notices and everything else still use grpc-java.
 *
 * <p>Everything runs on the channel's event loop, which is the loop of the client connections that
 * call through it: a call never leaves its loop. {@link #resetConnectBackoff}, {@link #failed},
 * {@link #shutdown} and {@link #awaitTermination} are for other threads; a call started or cancelled
 * on another thread is passed to the loop.
 */
final class LeanChannel {
    enum State { IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN }

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(LeanChannel.class.getName());

    static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    private static final AsciiString POST = AsciiString.cached("POST");
    private static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");
    private static final AsciiString USER_AGENT = AsciiString.cached("cellgate");
    /** gRPC's reconnect backoff: 1 s, x1.6 per failed attempt, at most 2 minutes, +-20% jitter. */
    private static final long INITIAL_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MINUTES.toNanos(2);
    private static final int CONNECT_TIMEOUT_MILLIS = 20_000;
    /** Names that are not IP literals are looked up here, never on an event loop. */
    private static final Executor RESOLVER = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "cellgate-upstream-resolver");
        t.setDaemon(true);
        return t;
    });

    private final String host;
    private final int port;
    private final EventLoop loop;
    private final Class<? extends SocketChannel> channelType;
    private final SslContext tls;
    private final AsciiString authority;
    private final AsciiString scheme;

    private volatile State state = State.IDLE;
    /** The connection new calls go to: connecting or ready; null when idle, failed or shut down. */
    private LeanConnection current;
    /** Calls that came while {@link #current} connected. */
    private final ArrayDeque<LeanCall> waiting = new ArrayDeque<>();
    /** Every connection not yet closed, the current one and those finishing their calls. */
    private final List<Channel> open = new ArrayList<>();
    private long backoffNanos = INITIAL_BACKOFF_NANOS;
    private long retryAtNanos;
    private String lastFailure = "";

    LeanChannel(String host, int port, EventLoop loop, Class<? extends SocketChannel> channelType, SslContext tls) {
        this.host = host;
        this.port = port;
        this.loop = loop;
        this.channelType = channelType;
        this.tls = tls;
        this.authority = new AsciiString(host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port);
        this.scheme = AsciiString.cached(tls == null ? "http" : "https");
    }

    /**
     * Starts a unary call of the method at {@code path} ({@code /package.Service/Method}) with {@code body}, {@code headerValues} (by
     * {@link UpstreamHeader} ordinal) and a deadline {@code timeoutNanos} from now; {@code listener}
     * hears its end (possibly before this returns, never inside it: failures found here come on the
     * loop's next pass).
     */
    LeanCall start(io.grpc.ClientCall.Listener<ByteString> listener, AsciiString path, long timeoutNanos, String[] headerValues,
                   ByteString body) {
        Http2Headers headers = new DefaultHttp2Headers(false, 20)
                .method(POST).scheme(scheme).path(path).authority(authority);
        headers.add(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC);
        headers.add(HttpHeaderNames.TE, TRAILERS);
        headers.add(HttpHeaderNames.USER_AGENT, USER_AGENT);
        headers.add(GRPC_TIMEOUT, timeoutText(timeoutNanos));
        UpstreamHeader.addTo(headers, headerValues);
        LeanCall call = new LeanCall(listener, headers, body, timeoutNanos, loop);
        if (loop.inEventLoop()) {
            begin(call);
        } else {
            // Not the way the gateway calls (a call starts on its client's loop, which is this one), but safe.
            loop.execute(() -> begin(call));
        }
        return call;
    }

    private void begin(LeanCall call) {
        call.startDeadline();
        route(call);
    }

    /** Starts the call on the ready connection, or queues it for the next one, or fails it (later). */
    private void route(LeanCall call) {
        if (state == State.READY && current.acceptsCalls()) {
            current.start(call);
            return;
        }
        if (state == State.SHUTDOWN) {
            failLater(call, shutDown());
            return;
        }
        if (state == State.TRANSIENT_FAILURE && System.nanoTime() - retryAtNanos < 0) {
            // As a gRPC channel does: fail fast while the backoff lasts.
            failLater(call, Status.UNAVAILABLE.withDescription("AO " + authority + " unreachable: " + lastFailure));
            return;
        }
        waiting.add(call);
        if (state != State.CONNECTING) {
            connect();
        }
    }

    private Status shutDown() {
        return Status.UNAVAILABLE.withDescription("the gateway's channel to AO " + authority + " is shut down");
    }

    private void failLater(LeanCall call, Status status) {
        loop.execute(() -> call.fail(status));
    }

    private void connect() {
        state = State.CONNECTING;
        LeanConnection connection = LeanConnection.create(this);
        current = connection;
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            connect(connection, new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(host), port));
            return;
        }
        CompletableFuture.supplyAsync(() -> {
            try {
                return InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, RESOLVER).whenComplete((address, error) -> loop.execute(() -> {
            if (error != null) {
                connectFailed(connection, error.getCause() != null ? error.getCause() : error);
            } else if (connection == current) {
                connect(connection, new InetSocketAddress(address, port));
            }
        }));
    }

    private void connect(LeanConnection connection, InetSocketAddress address) {
        Bootstrap bootstrap = new Bootstrap().group(loop).channel(channelType)
                // The address is resolved already (never on the loop): no resolver at all.
                .resolver(io.netty.resolver.NoopAddressResolverGroup.INSTANCE)
                // The client connections' allocator: the pooled one, never the adaptive one that can park a loop.
                .option(ChannelOption.ALLOCATOR, BufferAllocators.clients())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), host, port));
                        }
                        ch.pipeline().addLast(connection);
                    }
                });
        ChannelFuture f = bootstrap.connect(address);
        open.add(f.channel());
        f.channel().closeFuture().addListener(c -> open.remove(f.channel()));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connectFailed(connection, done.cause());
            }
        });
    }

    /** The AO's settings came: the connection takes calls. */
    void ready(LeanConnection connection) {
        if (connection != current || state == State.SHUTDOWN) {
            return;
        }
        state = State.READY;
        backoffNanos = INITIAL_BACKOFF_NANOS;
        // A copy: a call the connection cannot take after all comes back to the queue, for the next one.
        List<LeanCall> calls = new ArrayList<>(waiting);
        waiting.clear();
        for (LeanCall call : calls) {
            if (!call.done()) {
                connection.start(call);
            }
        }
    }

    /** A call its connection could not take after all (it retired): it waits for the next connection. */
    void startElsewhere(LeanCall call) {
        route(call);
    }

    /** The connection takes no new calls (GOAWAY, a ping unanswered, ids used up); its calls finish there. */
    void closing(LeanConnection connection) {
        if (connection != current) {
            return;
        }
        if (state == State.CONNECTING) {
            connectFailed(connection, new IllegalStateException("the AO closed the connection before it was ready"));
            return;
        }
        current = null;
        if (state != State.SHUTDOWN) {
            state = State.IDLE;
        }
    }

    /** The connection closed; {@code wasReady}: after the AO's settings came. */
    void closed(LeanConnection connection, boolean wasReady) {
        if (connection != current) {
            return;
        }
        if (!wasReady) {
            connectFailed(connection, new IllegalStateException("the connection closed before the AO's settings came"));
            return;
        }
        current = null;
        if (state != State.SHUTDOWN) {
            state = State.IDLE;
        }
    }

    private void connectFailed(LeanConnection connection, Throwable cause) {
        if (connection != current || state == State.SHUTDOWN) {
            return;
        }
        current = null;
        state = State.TRANSIENT_FAILURE;
        lastFailure = String.valueOf(cause);
        double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
        retryAtNanos = System.nanoTime() + (long) (backoffNanos * jitter);
        backoffNanos = Math.min((long) (backoffNanos * 1.6), MAX_BACKOFF_NANOS);
        Status status = Status.UNAVAILABLE.withDescription("cannot connect to AO " + authority + ": " + lastFailure);
        List<LeanCall> failed = new ArrayList<>(waiting);
        waiting.clear();
        // On the loop's next pass: this may run inside start(), whose caller hears of the call's end later.
        loop.execute(() -> failed.forEach(c -> c.fail(status)));
    }

    /** Whether its last connection attempt failed: it refuses calls until its backoff ends. Any thread. */
    boolean failed() {
        return state == State.TRANSIENT_FAILURE;
    }

    /** Connects now if it waits out a backoff (as gRPC's {@code resetConnectBackoff}). Any thread. */
    void resetConnectBackoff() {
        if (state != State.TRANSIENT_FAILURE) {
            return;
        }
        execute(() -> {
            if (state == State.TRANSIENT_FAILURE) {
                backoffNanos = INITIAL_BACKOFF_NANOS;
                connect();
            }
        });
    }

    /** Runs {@code task} on the loop; nothing when the loop is shut down (the gateway is stopping, and so is this). */
    private void execute(Runnable task) {
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            LOG.fine(() -> "AO channel " + authority + ": event loop stopped");
        }
    }

    /** Takes no new calls; its connections close once their calls end, or after {@code graceMillis}. Any thread. */
    void shutdown(long graceMillis) {
        execute(() -> {
            state = State.SHUTDOWN;
            current = null;
            LeanCall call;
            while ((call = waiting.poll()) != null) {
                call.fail(shutDown());
            }
            for (Channel c : List.copyOf(open)) {
                LeanConnection connection = c.pipeline().get(LeanConnection.class);
                if (connection != null && c.isActive()) {
                    connection.shutdown(graceMillis);
                } else {
                    c.close();
                }
            }
        });
    }

    /** Waits up to {@code millis} for its connections to close; true when they did. Not on an event loop. */
    boolean awaitTermination(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<ChannelFuture> closing;
        try {
            Future<List<ChannelFuture>> f = loop.submit(() -> open.stream().map(Channel::closeFuture).toList());
            closing = f.get(millis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | java.util.concurrent.RejectedExecutionException e) {
            return false;
        }
        for (ChannelFuture c : closing) {
            if (!c.await(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    State state() {
        return state;
    }

    /** gRPC's timeout units, finest first, and what divides the value in the unit before into it. */
    private static final String[] TIMEOUT_UNITS = {"n", "u", "m", "S", "M", "H"};
    private static final long[] TIMEOUT_DIVISORS = {1, 1000, 1000, 1000, 60, 60};

    /** A deadline as gRPC writes it: at most 8 digits and the finest unit they fit. */
    static String timeoutText(long nanos) {
        long v = Math.max(0, nanos);
        int unit = 0;
        while (true) {
            v /= TIMEOUT_DIVISORS[unit];
            if (v < 100_000_000L || unit == TIMEOUT_UNITS.length - 1) {
                return Math.min(v, 99_999_999L) + TIMEOUT_UNITS[unit];
            }
            unit++;
        }
    }

    @Override
    public String toString() {
        return authority.toString();
    }
}
