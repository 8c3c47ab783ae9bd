package io.cellgate.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback (port 0) to {@code host:port}, for cutting a process off a peer: {@link #cut}
 * closes the listener and every relayed connection at once, so the process behind it loses the peer
 * as a network partition would, while everything else keeps it. Blocking threads, for tests only.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean cut;

    public TcpProxy(String host, int port) throws IOException {
        this.target = new InetSocketAddress(host, port);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "tcp-proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    /** A proxy to the {@code http://host:port} or {@code host:port} address {@code url}. */
    public static TcpProxy to(String url) throws IOException {
        String hostPort = url.replaceFirst("^[a-z]+://", "");
        int colon = hostPort.lastIndexOf(':');
        return new TcpProxy(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** {@code http://127.0.0.1:PORT}: the proxy as an etcd client endpoint. */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    private void acceptLoop() {
        while (!cut) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // cut
            }
            try {
                Socket upstream = new Socket();
                upstream.connect(target, 2_000);
                sockets.add(client);
                sockets.add(upstream);
                if (cut) {
                    closeAll();
                    return;
                }
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                quietly(client);
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // One side closed, or the proxy was cut.
            } finally {
                quietly(from);
                quietly(to);
            }
        }, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    /** Closes the listener and every relayed connection: whoever used the proxy loses its peer. */
    public void cut() {
        cut = true;
        quietly(listener);
        closeAll();
    }

    private void closeAll() {
        for (Socket s : sockets) {
            quietly(s);
        }
    }

    private static void quietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        cut();
    }
}
