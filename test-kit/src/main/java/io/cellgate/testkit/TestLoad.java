package io.cellgate.testkit;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One logged-in client that sends its commands in turn, one request at a time, until closed, and
 * counts the answers by command class and code ("write OK", "read WRITE_FORBIDDEN", ...).
 */
public final class TestLoad implements AutoCloseable {
    private final ConcurrentHashMap<String, AtomicLong> codes = new ConcurrentHashMap<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;
    private final TestClient client;

    /** Alternates a WRITE and a READ of {@link TestTopology} for {@code uid}. */
    public TestLoad(int port, long uid) throws Exception {
        this(port, uid, TestTopology.WRITE, TestTopology.READ);
    }

    public TestLoad(int port, long uid, int... cmds) throws Exception {
        client = new TestClient(port);
        client.login(uid, TestTopology.token(uid));
        ServerFrame ack = client.next();
        if (ack.getLoginAck().getCode() != Code.OK) {
            throw new IllegalStateException("login refused: " + ack);
        }
        thread = new Thread(() -> {
            long seq = 0;
            try {
                while (!stop.get()) {
                    int cmd = cmds[(int) (seq % cmds.length)];
                    client.send(TestClient.request(++seq, cmd, "x"));
                    ServerFrame f = client.next();
                    String kind = cmd == TestTopology.WRITE ? "write " : "read ";
                    codes.computeIfAbsent(kind + f.getResponse().getCode(), k -> new AtomicLong()).incrementAndGet();
                }
            } catch (Exception e) {
                if (!stop.get()) {
                    codes.computeIfAbsent("error " + e, k -> new AtomicLong()).incrementAndGet();
                }
            }
        }, "test-load");
        thread.start();
    }

    /** Answers counted under {@code key}, e.g. "write OK". */
    public long count(String key) {
        AtomicLong n = codes.get(key);
        return n == null ? 0 : n.get();
    }

    /** Every count so far, by key. */
    public Map<String, Long> counts() {
        Map<String, Long> copy = new TreeMap<>();
        codes.forEach((k, v) -> copy.put(k, v.get()));
        return copy;
    }

    @Override
    public void close() throws Exception {
        stop.set(true);
        thread.join(10_000);
        client.close();
    }
}
