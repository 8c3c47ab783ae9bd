package io.cellgate.server.internal;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import java.io.IOException;
import java.io.Writer;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The access log: one JSON line per request (sampled; dyed requests always) and one per login
 * ({@code "event":"login"}, never sampled), written by one thread
 * ({@code cellgate-access-log}) that drains a preallocated Disruptor ring. Event loops only claim a
 * slot, fill it and publish: when the ring is full the entry is dropped and counted, the loop never
 * waits.
 */
public final class AccessLog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AccessLog.class.getName());

    /** One preallocated ring entry; fields are overwritten by each use. */
    static final class Entry {
        long timeMillis;
        String sessionId;
        long uid;
        long seq;
        int cmd;
        String code;
        String set;
        long epoch;
        long micros;
        String dye;
        String trace;
        /** The client's address (formatted by the writer thread, not the event loop). */
        java.net.SocketAddress client;
        int bytesIn;
        int bytesOut;
        /** The AO endpoint and its gRPC status; null when the request was not forwarded. */
        String ao;
        String aoStatus;
        /** Not a request: the writer opens access-log.file again here (after a rotation). */
        boolean reopen;
        /** A login, not a request: {@link #uid}, {@link #code}, {@link #client}, the session when admitted and these. */
        boolean login;
        String device;
        String deviceId;
        String appVersion;
    }

    private final Disruptor<Entry> disruptor;
    private final RingBuffer<Entry> ring;
    /** The writer thread's only. */
    private Writer out;
    /** Opens access-log.file again; null when this log cannot be reopened (a writer given by a test). */
    private final java.util.function.Supplier<Writer> reopener;
    private final java.util.concurrent.atomic.AtomicBoolean reopenPending = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile double sample;
    private final LongAdder dropped = new LongAdder();
    private final LongAdder written = new LongAdder();

    /**
     * @param writer   where lines go (owned: closed with this log)
     * @param sample   fraction of undyed requests logged, 0..1
     * @param ringSize entries in the ring, a power of two
     */
    public AccessLog(Writer writer, double sample, int ringSize) {
        this(writer, null, sample, ringSize);
    }

    /**
     * @param reopener opens the file again for {@link #reopen} (after a rotation); null: it cannot be reopened
     */
    public AccessLog(Writer writer, java.util.function.Supplier<Writer> reopener, double sample, int ringSize) {
        // The handler below writes to the field: reopen replaces it (a parameter of the same name would hide it).
        this.out = writer;
        this.reopener = reopener;
        this.sample = sample;
        this.disruptor = new Disruptor<>(Entry::new, ringSize, r -> {
            Thread t = new Thread(r, "cellgate-access-log");
            t.setDaemon(true);
            return t;
        }, ProducerType.MULTI, new BlockingWaitStrategy());
        StringBuilder line = new StringBuilder(256);
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        disruptor.handleEventsWith(new EventHandler<Entry>() {
            @Override
            public void onStart() {
                started.countDown();
            }

            @Override
            public void onEvent(Entry e, long sequence, boolean endOfBatch) {
                if (e.reopen || reopenPending.get()) {
                    e.reopen = false;
                    reopenNow();
                    if (e.timeMillis == 0) {
                        return;
                    }
                }
                line.setLength(0);
                if (e.login) {
                    appendLogin(line, e);
                } else {
                    appendRequest(line, e);
                }
                try {
                    out.append(line);
                    if (endOfBatch) {
                        out.flush();
                    }
                    written.increment();
                } catch (IOException ex) {
                    dropped.increment();
                    LOG.log(Level.WARNING, "access log: cannot write", ex);
                }
            }
        });
        this.ring = disruptor.start();
        // A drain at close only waits for a running consumer: make sure it runs before anyone records.
        try {
            if (!started.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("access log: the writer thread did not start");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("access log: interrupted while starting", e);
        }
    }

    private static void appendRequest(StringBuilder line, Entry e) {
        line.append("{\"time\":\"").append(Instant.ofEpochMilli(e.timeMillis)).append("\",\"session\":\"").append(e.sessionId)
                .append("\",\"uid\":").append(Long.toUnsignedString(e.uid)).append(",\"seq\":").append(Long.toUnsignedString(e.seq))
                .append(",\"cmd\":").append(Integer.toUnsignedString(e.cmd)).append(",\"code\":\"").append(e.code).append('"');
        if (e.set != null) {
            line.append(",\"set\":\"").append(e.set).append("\",\"epoch\":").append(e.epoch);
        }
        line.append(",\"us\":").append(e.micros);
        appendField(line, "dye", e.dye);
        if (e.client != null) {
            appendField(line, "client", address(e.client));
        }
        line.append(",\"in\":").append(e.bytesIn).append(",\"out\":").append(e.bytesOut);
        if (e.ao != null) {
            appendField(line, "ao", e.ao);
            line.append(",\"ao_status\":\"").append(e.aoStatus).append('"');
        }
        if (e.trace != null) {
            // 32 hex digits, checked or made by the gateway: nothing to escape.
            line.append(",\"trace\":\"").append(e.trace).append('"');
        }
        line.append("}\n");
    }

    /** Login fields and the dye were checked at login (ClientFields): escaped all the same. */
    private static void appendLogin(StringBuilder line, Entry e) {
        line.append("{\"time\":\"").append(Instant.ofEpochMilli(e.timeMillis)).append("\",\"event\":\"login\",\"uid\":")
                .append(Long.toUnsignedString(e.uid)).append(",\"code\":\"").append(e.code).append('"');
        appendField(line, "session", e.sessionId);
        if (e.client != null) {
            appendField(line, "client", address(e.client));
        }
        appendField(line, "device", e.device);
        appendField(line, "device_id", e.deviceId);
        appendField(line, "app_version", e.appVersion);
        appendField(line, "dye", e.dye);
        line.append("}\n");
    }

    private static void appendField(StringBuilder line, String name, String value) {
        if (value != null && !value.isEmpty()) {
            line.append(",\"").append(name).append("\":\"");
            appendEscaped(line, value);
            line.append('"');
        }
    }

    /** Logs this fraction of undyed requests from now on (a reload of access-log.sample). */
    public void sample(double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("access-log.sample: " + fraction + " (expected: 0..1)");
        }
        this.sample = fraction;
    }

    /** The fraction of undyed requests logged. */
    public double sample() {
        return sample;
    }

    /** Whether a request with {@code dye} is logged: dyed ones always, others by the sample rate. */
    boolean sampled(String dye) {
        return !dye.isEmpty() || sample >= 1 || (sample > 0 && ThreadLocalRandom.current().nextDouble() < sample);
    }

    /** {@code host:port} of a client address, without the host name lookup {@code toString} may show. */
    private static String address(java.net.SocketAddress a) {
        if (a instanceof java.net.InetSocketAddress i && i.getAddress() != null) {
            String host = i.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + i.getPort();
        }
        return String.valueOf(a);
    }

    /** On the writer thread: closes access-log.file and opens it again (logrotate moved it away). */
    private void reopenNow() {
        reopenPending.set(false);
        if (reopener == null) {
            return;
        }
        try {
            Writer fresh = reopener.get();
            try {
                out.close();
            } catch (IOException ex) {
                LOG.log(Level.WARNING, "access log: closing the old file failed", ex);
            }
            out = fresh;
            LOG.info("access log: file opened again");
        } catch (RuntimeException ex) {
            LOG.log(Level.WARNING, "access log: cannot open the file again; writing on to the old one", ex);
        }
    }

    /**
     * Any thread: the writer opens access-log.file again before its next line (for log rotation: move
     * the file, then reopen). False when this log cannot be reopened.
     */
    public boolean reopen() {
        if (reopener == null) {
            return false;
        }
        reopenPending.set(true);
        long sequence;
        try {
            sequence = ring.tryNext();
        } catch (InsufficientCapacityException e) {
            return true; // the pending flag reopens it before the next line
        }
        try {
            Entry e = ring.get(sequence);
            e.reopen = true;
            e.timeMillis = 0;
        } finally {
            ring.publish(sequence);
        }
        return true;
    }

    /**
     * Any thread, never blocks: records one request, or drops it when the ring is full.
     *
     * @param client   the client's address
     * @param bytesIn  the request body's bytes
     * @param bytesOut the response body's bytes
     * @param ao       the AO endpoint that answered, null when the request was not forwarded
     * @param aoStatus the AO call's gRPC status code, with {@code ao}
     */
    public void record(String sessionId, long uid, long seq, int cmd, String code, String set, long epoch, long micros, String dye,
                       String trace, java.net.SocketAddress client, int bytesIn, int bytesOut, String ao, String aoStatus) {
        long sequence = claim();
        if (sequence < 0) {
            return;
        }
        try {
            Entry e = ring.get(sequence);
            e.timeMillis = System.currentTimeMillis();
            e.sessionId = sessionId;
            e.uid = uid;
            e.seq = seq;
            e.cmd = cmd;
            e.code = code;
            e.set = set;
            e.epoch = epoch;
            e.micros = micros;
            e.dye = dye;
            e.trace = trace;
            e.client = client;
            e.bytesIn = bytesIn;
            e.bytesOut = bytesOut;
            e.ao = ao;
            e.aoStatus = aoStatus;
            e.reopen = false;
            e.login = false;
        } finally {
            ring.publish(sequence);
        }
    }

    /**
     * Any thread, never blocks: records one login (every one, not sampled), or drops it when the ring is
     * full. Pass the login fields only once they were checked; null leaves a field out.
     *
     * @param sessionId the admitted session's id; null when the login was refused
     * @param code      the LoginAck code
     * @param dye       the session's dye (the gateway's decision), or null
     */
    public void login(long uid, String code, String sessionId, java.net.SocketAddress client, String device, String deviceId,
                      String appVersion, String dye) {
        long sequence = claim();
        if (sequence < 0) {
            return;
        }
        try {
            Entry e = ring.get(sequence);
            e.timeMillis = System.currentTimeMillis();
            e.login = true;
            e.reopen = false;
            e.uid = uid;
            e.code = code;
            e.sessionId = sessionId;
            e.client = client;
            e.device = device;
            e.deviceId = deviceId;
            e.appVersion = appVersion;
            e.dye = dye;
        } finally {
            ring.publish(sequence);
        }
    }

    /** A ring slot to fill then publish, or -1 (counted as dropped) when the ring is full. */
    private long claim() {
        try {
            return ring.tryNext();
        } catch (InsufficientCapacityException e) {
            dropped.increment();
            return -1;
        }
    }

    public long dropped() {
        return dropped.sum();
    }

    public long written() {
        return written.sum();
    }

    private static void appendEscaped(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
    }

    /** Writes what is in the ring, then closes the output. */
    @Override
    public void close() {
        try {
            disruptor.shutdown(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (com.lmax.disruptor.TimeoutException e) {
            disruptor.halt();
        }
        try {
            out.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "access log: cannot close", e);
        }
    }
}
