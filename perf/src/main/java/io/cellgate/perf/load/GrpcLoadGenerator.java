package io.cellgate.perf.load;

import com.google.protobuf.ByteString;
import io.cellgate.sample.v1.EchoReply;
import io.cellgate.sample.v1.EchoRequest;
import io.cellgate.sample.v1.SampleAoGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The plain-gRPC front end of the load generator: unary {@code SampleAo/Echo} calls straight to an
 * AO, or to a proxy in front of it, on the same open-loop schedule as {@link LoadGenerator} (request
 * k of a channel is intended at start + phase + k / rate, sent by a ticker per event loop) and
 * recorded the same way (latency from the intended send time into an HdrHistogram). Each channel is
 * one HTTP/2 connection bound to one of the generator's event loops.
 */
public final class GrpcLoadGenerator {

    /**
     * @param host          target host
     * @param port          target port
     * @param sources       local source addresses to spread channels over
     * @param channels      HTTP/2 connections
     * @param ratePerSecond total calls per second over all channels
     * @param duration      how long to send
     * @param payloadBytes  size of each echo payload
     * @param threads       client event loops
     * @param tick          how often each event loop sends what is due
     * @param inFlight      0: open loop at {@code ratePerSecond}; N: closed loop, each channel keeps N calls
     *                      in flight (the next starts when one ends; latency counts from the actual start)
     */
    public record Options(String host, int port, List<String> sources, int channels, double ratePerSecond, Duration duration,
                          int payloadBytes, int threads, Duration tick, int inFlight) {
        /** Open-loop options. */
        public Options(String host, int port, List<String> sources, int channels, double ratePerSecond, Duration duration,
                       int payloadBytes, int threads, Duration tick) {
            this(host, port, sources, channels, ratePerSecond, duration, payloadBytes, threads, tick, 0);
        }
    }

    /** What a run measured. Latencies in microseconds. */
    public record Result(long sent, long ok, long failed, Histogram latencyMicros, double seconds, Histogram sendLagMicros) {
    }

    private final Options options;
    private final EchoRequest request;
    private final Recorder recorder = new Recorder(3);
    /** How late each call was started: actual minus intended send time (the generator's own lag). */
    private final Recorder sendLagRecorder = new Recorder(3);
    private final AtomicLong sent = new AtomicLong();
    private final LongAdder ok = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private volatile boolean sending;
    private volatile long startNanos;

    public GrpcLoadGenerator(Options options) {
        this.options = options;
        byte[] bytes = new byte[options.payloadBytes()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ('a' + i % 26);
        }
        this.request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(bytes)).build();
    }

    public Result run(PrintStream progress) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(options.threads(), new DefaultThreadFactory("grpc-load", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        List<Caller> callers = new ArrayList<>();
        try {
            for (int i = 0; i < options.channels(); i++) {
                EventLoop loop = group.next();
                String source = options.sources().get(i % options.sources().size());
                ManagedChannel channel = NettyChannelBuilder.forAddress(options.host(), options.port())
                        .eventLoopGroup(loop).channelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                        .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
                            @Override
                            public InetSocketAddress createSocketAddress(java.net.SocketAddress remote,
                                                                         io.grpc.Attributes attrs) {
                                return new InetSocketAddress(source, 0);
                            }
                        })
                        .directExecutor().usePlaintext().disableRetry().flowControlWindow(1 << 20).build();
                callers.add(new Caller(loop, channel, options.ratePerSecond() / options.channels(),
                        (long) (i * 1e9 / options.ratePerSecond())));
            }
            // Connect every channel before the clock starts: the first call of each would pay the handshake.
            for (Caller c : callers) {
                ClientCalls.blockingUnaryCall(c.channel, SampleAoGrpc.getEchoMethod(), CallOptions.DEFAULT.withDeadlineAfter(10,
                        TimeUnit.SECONDS), request);
            }
            IdentityHashMap<EventLoop, List<Caller>> byLoop = new IdentityHashMap<>();
            for (Caller c : callers) {
                byLoop.computeIfAbsent(c.loop, k -> new ArrayList<>()).add(c);
            }
            startNanos = System.nanoTime();
            sending = true;
            List<ScheduledFuture<?>> tickers = new ArrayList<>();
            if (options.inFlight() > 0) {
                // Closed loop: each channel's first calls, on its loop; every call that ends starts the next.
                byLoop.forEach((loop, list) -> loop.execute(() -> {
                    for (Caller c : list) {
                        for (int k = 0; k < options.inFlight(); k++) {
                            c.startNext();
                        }
                    }
                }));
            } else {
                byLoop.forEach((loop, list) -> tickers.add(loop.scheduleAtFixedRate(() -> {
                    for (Caller c : list) {
                        c.tick();
                    }
                }, 0, options.tick().toNanos(), TimeUnit.NANOSECONDS)));
            }
            Histogram total = Progress.run(options.duration(), startNanos, recorder, progress,
                    () -> String.format("sent %,d  ok %,d  failed %,d  in flight %,d", sent.get(), ok.sum(), failed.sum(),
                            sent.get() - ok.sum() - failed.sum()));
            sending = false;
            tickers.forEach(t -> t.cancel(false));
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (ok.sum() + failed.sum() < sent.get() && System.nanoTime() < drainDeadline) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
            total.add(recorder.getIntervalHistogram());
            return new Result(sent.get(), ok.sum(), failed.sum(), total, seconds, sendLagRecorder.getIntervalHistogram());
        } finally {
            sending = false;
            for (Caller c : callers) {
                c.channel.shutdownNow();
            }
            for (Caller c : callers) {
                c.channel.awaitTermination(5, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** One channel's schedule, run on its event loop. */
    private final class Caller {
        final EventLoop loop;
        final ManagedChannel channel;
        private final double ratePerNano;
        private final long phaseNanos;
        private long scheduled;

        Caller(EventLoop loop, ManagedChannel channel, double ratePerSecond, long phaseNanos) {
            this.loop = loop;
            this.channel = channel;
            this.ratePerNano = ratePerSecond / 1e9;
            this.phaseNanos = phaseNanos;
        }

        void tick() {
            if (!sending) {
                return;
            }
            long elapsed = System.nanoTime() - startNanos - phaseNanos;
            if (elapsed < 0) {
                return;
            }
            long due = (long) (elapsed * ratePerNano) + 1;
            while (scheduled < due) {
                long intended = startNanos + phaseNanos + (long) (scheduled / ratePerNano);
                scheduled++;
                call(intended, null);
                sendLagRecorder.recordValue(Math.max(0, (System.nanoTime() - intended) / 1000));
            }
        }

        /** Closed loop: one call now, and the next when it completes. A failed call ends its slot. */
        void startNext() {
            if (!sending) {
                return;
            }
            call(System.nanoTime(), this::startNext);
        }

        /**
         * One Echo call; its latency counts from {@code fromNanos}. {@code thenOnSuccess}, when not
         * null, runs once the call succeeded (the closed loop's next call).
         */
        private void call(long fromNanos, Runnable thenOnSuccess) {
            sent.incrementAndGet();
            ClientCalls.asyncUnaryCall(channel.newCall(SampleAoGrpc.getEchoMethod(),
                    CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)), request, new StreamObserver<EchoReply>() {
                        @Override
                        public void onNext(EchoReply value) {
                        }

                        @Override
                        public void onError(Throwable t) {
                            failed.increment();
                            recorder.recordValue(Math.max(0, (System.nanoTime() - fromNanos) / 1000));
                        }

                        @Override
                        public void onCompleted() {
                            ok.increment();
                            recorder.recordValue(Math.max(0, (System.nanoTime() - fromNanos) / 1000));
                            if (thenOnSuccess != null) {
                                thenOnSuccess.run();
                            }
                        }
                    });
        }
    }
}
