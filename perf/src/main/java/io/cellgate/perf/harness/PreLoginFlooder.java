package io.cellgate.perf.harness;

import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.Ping;
import io.cellgate.protocol.v1.ServerFrame;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A process of clients that never log in: each of {@code --clients} connects from {@code --source},
 * writes {@code --frames} pings in one write, reads until the gateway closes the connection, waits
 * {@code --pause-ms} and connects again. It runs until its standard input closes, then prints
 * {@code flooder: closed C, answers A, refused R, wrong W} (closed: connections the gateway ended;
 * answers: pongs received in all; refused: go_away RATE_LIMITED before any answer, the accept limit;
 * wrong: a connection that got more than {@code --allowed} answers or another go_away).
 */
public final class PreLoginFlooder {
    private PreLoginFlooder() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.of("--host", "127.0.0.1", "--port", "0", "--source", "127.0.1.1",
                "--clients", "40", "--frames", "50", "--pause-ms", "50", "--allowed", "8"));
        InetSocketAddress gateway = new InetSocketAddress(a.get("--host"), Integer.parseInt(a.get("--port")));
        InetSocketAddress source = new InetSocketAddress(a.get("--source"), 0);
        int allowed = Integer.parseInt(a.get("--allowed"));
        long pauseMillis = Long.parseLong(a.get("--pause-ms"));
        ByteArrayOutputStream pings = new ByteArrayOutputStream();
        for (int i = 1; i <= Integer.parseInt(a.get("--frames")); i++) {
            ClientFrame.newBuilder().setPing(Ping.newBuilder().setNonce(i)).build().writeDelimitedTo(pings);
        }
        byte[] flood = pings.toByteArray();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong closed = new AtomicLong();
        AtomicLong answers = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < Integer.parseInt(a.get("--clients")); t++) {
            Thread client = new Thread(() -> {
                while (!stop.get()) {
                    try (Socket s = new Socket()) {
                        s.bind(source);
                        s.connect(gateway, 5_000);
                        s.setSoTimeout(10_000);
                        try {
                            s.getOutputStream().write(flood);
                        } catch (IOException e) {
                            // Closed while writing: the gateway had heard enough.
                        }
                        InputStream in = s.getInputStream();
                        int pongs = 0;
                        boolean defined = true;
                        for (ServerFrame f; (f = ServerFrame.parseDelimitedFrom(in)) != null; ) {
                            if (f.hasPong()) {
                                pongs++;
                            } else if (f.hasGoAway()) {
                                if (pongs == 0 && f.getGoAway().getCode() == Code.RATE_LIMITED) {
                                    refused.incrementAndGet();
                                } else {
                                    defined = pongs <= allowed;
                                }
                            }
                        }
                        answers.addAndGet(pongs);
                        closed.incrementAndGet();
                        if (!defined || pongs > allowed) {
                            wrong.incrementAndGet();
                        }
                    } catch (IOException e) {
                        // A reset while reading is the gateway closing hard; counted as closed.
                        closed.incrementAndGet();
                    }
                    try {
                        Thread.sleep(pauseMillis);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "flooder-" + t);
            client.setDaemon(true);
            threads.add(client);
            client.start();
        }
        System.out.println("flooder: started " + threads.size());
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (stdin.readLine() != null) {
            // Runs until the scenario closes standard input.
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join(15_000);
        }
        System.out.println("flooder: closed " + closed.get() + ", answers " + answers.get() + ", refused " + refused.get()
                + ", wrong " + wrong.get());
    }
}
