package io.cellgate.perf.load;

import com.google.protobuf.ByteString;
import io.cellgate.client.CellgateClient;
import io.cellgate.client.ClientListener;
import io.cellgate.protocol.LoginToken;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Response;
import io.cellgate.protocol.v1.ServerPush;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.agrona.collections.Long2LongHashMap;

/**
 * An open-loop load generator for the client protocol. It opens persistent connections (spread over
 * the given source addresses), logs each in as its own user, then sends at a fixed total rate: every
 * request has an intended send time on a fixed schedule, and its latency is measured from that
 * intended time, so a stalled gateway is charged for the requests it delayed (coordinated omission
 * corrected). Each connection is a {@link CellgateClient} (the client library, on the generator's
 * shared event loops); requests are sent by a ticker per event loop (1 ms unless set); replies are
 * recorded into an HdrHistogram {@link Recorder}. A call the client fails (its connection lost, its
 * timeout passed) is not an answer: it counts as unanswered. {@link GrpcLoadGenerator} is the same schedule and recorder
 * speaking plain gRPC, for the paths that do not go through cellgate.
 */
public final class LoadGenerator {

    /**
     * @param host          gateway host
     * @param port          gateway port
     * @param sources       local source addresses to spread connections over (e.g. 127.0.0.2)
     * @param connections   persistent connections, one user each
     * @param ratePerSecond total requests per second over all connections
     * @param duration      how long to send
     * @param secret        the gateway's token secret, to mint login tokens
     * @param uidBase       the first connection's uid; connection i is {@code uidBase + i}
     * @param mix           the commands to send and their shares
     * @param payloadBytes  size of echo and put payloads
     * @param threads       client event loops
     * @param tick          how often each event loop sends what is due (the send is late by up to this)
     * @param inFlight      0: open loop at {@code ratePerSecond}; N: closed loop, each connection keeps N
     *                      requests in flight (sends the next when one is answered; the rate is not used,
     *                      and latency counts from the actual send)
     */
    public record Options(String host, int port, List<String> sources, int connections, double ratePerSecond,
                          Duration duration, byte[] secret, long uidBase, List<CommandMix> mix, int payloadBytes,
                          int threads, Duration tick, int inFlight) {
        /** Open-loop options with the default 1 ms tick. */
        public Options(String host, int port, List<String> sources, int connections, double ratePerSecond,
                       Duration duration, byte[] secret, long uidBase, List<CommandMix> mix, int payloadBytes, int threads) {
            this(host, port, sources, connections, ratePerSecond, duration, secret, uidBase, mix, payloadBytes, threads,
                    Duration.ofMillis(1));
        }

        /** Open-loop options. */
        public Options(String host, int port, List<String> sources, int connections, double ratePerSecond,
                       Duration duration, byte[] secret, long uidBase, List<CommandMix> mix, int payloadBytes, int threads,
                       Duration tick) {
            this(host, port, sources, connections, ratePerSecond, duration, secret, uidBase, mix, payloadBytes, threads, tick, 0);
        }
    }

    /** What a run measured. Latencies in microseconds. */
    public record Result(long sent, long answered, long unanswered, long[] codes, Histogram latencyMicros,
                         Map<String, Long> servedBy, long loginFailures, double seconds, Histogram okLatencyMicros,
                         Map<Integer, long[]> codesByCmd, long pushes, Histogram sendLagMicros) {
        public long ok() {
            return codes[Code.OK_VALUE];
        }
    }

    private final Options options;
    private final double[] cumulativeWeights;
    private final ByteString payload;
    private final Recorder recorder = new Recorder(3);
    private final Recorder okRecorder = new Recorder(3);
    /** How late each request was handed to its connection: actual minus intended send time (the generator's own lag). */
    private final Recorder sendLagRecorder = new Recorder(3);
    private final Map<Integer, LongAdder[]> codesByCmd = new ConcurrentHashMap<>();
    private final LongAdder[] codes = new LongAdder[64];
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    /** Pushes the connections received. */
    private final LongAdder pushes = new LongAdder();
    private final LongAdder loginFailures = new LongAdder();
    /** Calls the client failed (connection lost, timed out, closed): never answered by the gateway. */
    private final LongAdder failed = new LongAdder();
    private final Map<String, LongAdder> servedBy = new ConcurrentHashMap<>();
    private volatile boolean sending;
    private volatile long startNanos;

    public LoadGenerator(Options options) {
        this.options = options;
        double total = options.mix().stream().mapToDouble(CommandMix::weight).sum();
        cumulativeWeights = new double[options.mix().size()];
        double acc = 0;
        for (int i = 0; i < cumulativeWeights.length; i++) {
            acc += options.mix().get(i).weight() / total;
            cumulativeWeights[i] = acc;
        }
        byte[] bytes = new byte[options.payloadBytes()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ('a' + i % 26);
        }
        payload = ByteString.copyFrom(bytes);
        for (int i = 0; i < codes.length; i++) {
            codes[i] = new LongAdder();
        }
    }

    /** Runs the whole load: connect, log in, send for the duration, wait for answers, report. */
    public Result run(PrintStream progress) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(options.threads(), new DefaultThreadFactory("load", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        List<Connection> connections = new ArrayList<>();
        try {
            CountDownLatch loggedIn = new CountDownLatch(options.connections());
            long expiry = System.currentTimeMillis() / 1000 + 24 * 3600;
            LoginToken tokens = new LoginToken(options.secret());
            java.util.IdentityHashMap<EventLoop, List<Connection>> byLoop = new java.util.IdentityHashMap<>();
            for (int i = 0; i < options.connections(); i++) {
                long uid = options.uidBase() + i;
                EventLoop loop = group.next();
                // Connection i's schedule is offset by i / rate, so the connections' sends interleave evenly
                // instead of all connections sending at the same instants.
                Connection c = new Connection(uid, options.ratePerSecond() / options.connections(),
                        (long) (i * 1e9 / options.ratePerSecond()));
                String token = tokens.issue(uid, expiry);
                c.client = CellgateClient.builder().gateway(InetSocketAddress.createUnresolved(options.host(), options.port()))
                        .login(uid, () -> token).device("loadgen", "", "1")
                        .eventLoop(loop, epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                        .localAddress(new InetSocketAddress(options.sources().get(i % options.sources().size()), 0))
                        .connectTimeout(Duration.ofSeconds(10)).defaultTimeout(CALL_TIMEOUT).listener(c).build();
                connections.add(c);
                byLoop.computeIfAbsent(loop, k -> new ArrayList<>()).add(c);
                c.client.connect().whenComplete((ok, e) -> {
                    if (e != null) {
                        loginFailures.increment();
                    }
                    loggedIn.countDown();
                });
            }
            if (!loggedIn.await(30, TimeUnit.SECONDS)) {
                progress.printf("warning: %d of %d connections did not log in within 30 s%n",
                        loggedIn.getCount(), options.connections());
                loginFailures.add(loggedIn.getCount());
            }
            startNanos = System.nanoTime();
            sending = true;
            List<ScheduledFuture<?>> tickers = new ArrayList<>();
            if (options.inFlight() > 0) {
                // Closed loop: each connection's first requests, on its loop; every answer sends the next.
                byLoop.forEach((loop, list) -> loop.execute(() -> {
                    for (Connection c : list) {
                        for (int k = 0; k < options.inFlight(); k++) {
                            c.sendNext();
                        }
                    }
                }));
            } else {
                // One ticker per event loop sends what is due on each of that loop's connections.
                byLoop.forEach((loop, list) -> tickers.add(loop.scheduleAtFixedRate(() -> {
                    for (Connection c : list) {
                        c.tick();
                    }
                }, 0, options.tick().toNanos(), TimeUnit.NANOSECONDS)));
            }
            Histogram total = Progress.run(options.duration(), startNanos, recorder, progress,
                    () -> String.format("sent %,d  ok %,d  other %,d  in flight %,d", sent.get(), codes[0].sum(),
                            answered.get() - codes[0].sum(), sent.get() - answered.get()));
            sending = false;
            tickers.forEach(t -> t.cancel(false));
            // A tick already running on a loop may still send one last request: wait for each loop to
            // pass a no-op, so the count of requests sent is final before answers are awaited.
            for (EventLoop loop : byLoop.keySet()) {
                loop.submit(() -> { }).await(5, TimeUnit.SECONDS);
            }
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            // Far above every command timeout the scenarios configure (2-10 s): a request still without an
            // answer after this is lost, not late.
            long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (answered.get() + failed.sum() < sent.get() && System.nanoTime() < drainDeadline) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
            total.add(recorder.getIntervalHistogram());
            Histogram okTotal = okRecorder.getIntervalHistogram();
            long[] codeCounts = new long[codes.length];
            for (int i = 0; i < codes.length; i++) {
                codeCounts[i] = codes[i].sum();
            }
            Map<String, Long> served = new java.util.TreeMap<>();
            servedBy.forEach((k, v) -> served.put(k, v.sum()));
            Map<Integer, long[]> byCmd = new java.util.TreeMap<>();
            codesByCmd.forEach((cmd, adders) -> {
                long[] counts = new long[adders.length];
                for (int i = 0; i < adders.length; i++) {
                    counts[i] = adders[i].sum();
                }
                byCmd.put(cmd, counts);
            });
            return new Result(sent.get(), answered.get(), sent.get() - answered.get(), codeCounts, total, served,
                    loginFailures.sum(), seconds, okTotal, byCmd, pushes.sum(), sendLagRecorder.getIntervalHistogram());
        } finally {
            sending = false;
            for (Connection c : connections) {
                c.client.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private LongAdder[] newAdders() {
        LongAdder[] adders = new LongAdder[codes.length];
        for (int i = 0; i < adders.length; i++) {
            adders[i] = new LongAdder();
        }
        return adders;
    }

    private CommandMix pick(double r) {
        for (int i = 0; i < cumulativeWeights.length; i++) {
            if (r < cumulativeWeights[i]) {
                return options.mix().get(i);
            }
        }
        return options.mix().get(cumulativeWeights.length - 1);
    }

    /** One connection: a client of its own, ticked on the client's event loop. */
    private final class Connection implements ClientListener {
        private final long uid;
        private final double ratePerNano;
        private final long phaseNanos;
        private CellgateClient client;
        private long nextSeq = 1;
        private long scheduled;

        Connection(long uid, double ratePerSecond, long phaseNanos) {
            this.phaseNanos = phaseNanos;
            this.uid = uid;
            this.ratePerNano = ratePerSecond / 1e9;
        }

        void tick() {
            if (!sending || !client.loggedIn()) {
                return;
            }
            long now = System.nanoTime();
            // Request k (from 0) is intended at start + phase + k / rate: at `now`, requests 0..due-1 are due.
            long elapsed = now - startNanos - phaseNanos;
            if (elapsed < 0) {
                return;
            }
            long due = (long) (elapsed * ratePerNano) + 1;
            java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
            while (scheduled < due) {
                long intended = startNanos + phaseNanos + (long) (scheduled / ratePerNano);
                scheduled++;
                CommandMix mix = pick(random.nextDouble());
                client.call(mix.cmd(), mix.body(uid, nextSeq++, payload)).whenComplete((r, e) -> {
                    if (r != null) {
                        answered(r, mix, intended);
                    } else {
                        failed.increment();
                    }
                });
                sendLagRecorder.recordValue(Math.max(0, (System.nanoTime() - intended) / 1000));
                sent.incrementAndGet();
            }
        }

        /**
         * Closed loop: one request now, and the next when it is answered. A failed call ends its slot
         * (a connection that fails at once would otherwise spin).
         */
        void sendNext() {
            if (!sending || !client.loggedIn()) {
                return;
            }
            long start = System.nanoTime();
            CommandMix mix = pick(java.util.concurrent.ThreadLocalRandom.current().nextDouble());
            sent.incrementAndGet();
            client.call(mix.cmd(), mix.body(uid, nextSeq++, payload)).whenComplete((r, e) -> {
                if (r != null) {
                    answered(r, mix, start);
                    sendNext();
                } else {
                    failed.increment();
                }
            });
        }

        private void answered(Response r, CommandMix mix, long intended) {
            long micros = Math.max(0, (System.nanoTime() - intended) / 1000);
            recorder.recordValue(micros);
            int code = Math.min(r.getCodeValue(), codes.length - 1);
            codes[code].increment();
            if (r.getCode() == Code.OK) {
                okRecorder.recordValue(micros);
                servedBy.computeIfAbsent((mix.write() ? "write " : "read ") + mix.setOf(r.getBody()), k -> new LongAdder()).increment();
            }
            codesByCmd.computeIfAbsent(mix.cmd(), k -> newAdders())[code].increment();
            answered.incrementAndGet();
        }

        @Override
        public void push(ServerPush push) {
            pushes.increment();
        }
    }

    /** The generator's calls get this long before the client gives up on them (past every scenario's command timeout). */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
}
