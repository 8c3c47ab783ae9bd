package io.cellgate.testkit;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Login;
import io.cellgate.protocol.v1.Request;
import io.cellgate.protocol.v1.ServerFrame;
import com.google.protobuf.ByteString;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A plain client of the wire protocol over a blocking socket, written the way any client author would
 * with protobuf's own delimited format: {@code writeDelimitedTo} / {@code parseDelimitedFrom}. A reader
 * thread queues every server frame and notices the close.
 */
public final class TestClient implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final BlockingQueue<ServerFrame> frames = new LinkedBlockingQueue<>();
    private final CountDownLatch closed = new CountDownLatch(1);

    public TestClient(int port) throws IOException {
        this(port, "127.0.0.1");
    }

    /** A client connecting from the loopback address {@code source} (127.0.0.2, ... are all this host). */
    public TestClient(int port, String source) throws IOException {
        this(connect(port, source));
    }

    private static Socket connect(int port, String source) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.bind(new InetSocketAddress(source, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return socket;
    }

    /** A client on a socket connected already (e.g. a TLS socket). */
    public TestClient(Socket connected) throws IOException {
        socket = connected;
        out = new BufferedOutputStream(socket.getOutputStream());
        InputStream in = socket.getInputStream();
        Thread reader = new Thread(() -> {
            try {
                ServerFrame frame;
                while ((frame = ServerFrame.parseDelimitedFrom(in)) != null) {
                    frames.add(frame);
                }
            } catch (IOException e) {
                // closed or reset: the latch says so
            } finally {
                closed.countDown();
            }
        }, "test-client-reader");
        reader.setDaemon(true);
        reader.start();
    }

    public void send(ClientFrame frame) throws IOException {
        frame.writeDelimitedTo(out);
        out.flush();
    }

    /** Queues without flushing, for pipelining. */
    public void sendNoFlush(ClientFrame frame) throws IOException {
        frame.writeDelimitedTo(out);
    }

    public void flush() throws IOException {
        out.flush();
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void login(long uid, String token) throws IOException {
        send(ClientFrame.newBuilder().setLogin(Login.newBuilder().setUid(uid).setToken(token)
                .setDevice("test").setAppVersion("1.0")).build());
    }

    public static ClientFrame request(long seq, int cmd, String body) {
        return ClientFrame.newBuilder().setRequest(Request.newBuilder().setSeq(seq).setCmd(cmd)
                .setBody(ByteString.copyFromUtf8(body))).build();
    }

    /** The next frame from the gateway; fails after 5 s. */
    public ServerFrame next() throws InterruptedException {
        ServerFrame frame = frames.poll(5, TimeUnit.SECONDS);
        if (frame == null) {
            throw new AssertionError("no frame from the gateway within 5 s (closed: " + isClosed() + ")");
        }
        return frame;
    }

    /** The next frame, or null when none arrives within {@code millis}. */
    public ServerFrame poll(long millis) throws InterruptedException {
        return frames.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** True once the gateway closed the connection, waiting up to {@code millis}. */
    public boolean awaitClosed(long millis) throws InterruptedException {
        return closed.await(millis, TimeUnit.MILLISECONDS);
    }

    public boolean isClosed() {
        return closed.getCount() == 0;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
