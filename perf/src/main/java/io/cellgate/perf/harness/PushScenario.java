package io.cellgate.perf.harness;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.PushGrpc;
import io.cellgate.protocol.v1.PushMessage;
import io.cellgate.protocol.v1.PushResult;
import io.cellgate.protocol.v1.PushToUsersReply;
import io.cellgate.protocol.v1.PushToUsersRequest;
import io.cellgate.protocol.v1.UserPushResult;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * Push fan-out: a gatewayd process holds {@code --connections} logged-in idle connections (from
 * {@code --holders} generator processes, each its own user), then one {@code PushToUsers} call names
 * every user, {@code --rounds} times a second apart, and a last round asks for acks. Each push's body
 * is the {@link System#nanoTime} at the call (the monotonic clock is the same for every process of a
 * machine), so each holder records when each push arrived: the report gives, per round, the pushes
 * delivered, the delivery time's p50/p99/max from the call, and the call's own time to its reply.
 *
 * <p>{@code perf/run push [--connections 10000] [--holders 4] [--rounds 5] [--out perf/results/push-DATE.md]}
 */
public final class PushScenario {
    private static final String PUSH_TOKEN = "perf-push-token-0123456789";

    /** One round: what the call answered and what the holders saw. Times in microseconds. */
    record Round(int round, boolean ack, long pushId, int users, int reached, long callMicros, long delivered, Histogram latency) {
    }

    private PushScenario() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args, Map.of("--connections", "10000", "--holders", "4", "--rounds", "5",
                "--out", "perf/results/push-" + LocalDate.now(java.time.ZoneOffset.UTC) + ".md"));
        run(Integer.parseInt(a.get("--connections")), Integer.parseInt(a.get("--holders")), Integer.parseInt(a.get("--rounds")),
                Path.of(a.get("--out")), System.out);
    }

    static List<Round> run(int connections, int holderCount, int rounds, Path report, PrintStream out) throws Exception {
        Path dir = Files.createTempDirectory("cellgate-push");
        int port = Procs.freePort();
        int pushPort = Procs.freePort();
        String yaml = HopScenario.gatewayYaml(port, Procs.freePort())
                .replace("accept-rate: 100000", "accept-rate: 100000\n  accept-burst: 20000")
                .replace("login-rate: 100000", "login-rate: 100000\n  login-burst: 20000")
                + "push:\n  listen: 127.0.0.1:" + pushPort + "\n  token: " + PUSH_TOKEN + "\n";
        Path config = dir.resolve("gateway.yaml");
        Files.writeString(config, yaml);
        Path log = dir.resolve("gatewayd.log");
        Process gateway = Procs.java(log, ConnsScenario.JVM, "io.cellgate.server.Gatewayd", "--config", config.toString());
        List<Process> holders = new ArrayList<>();
        List<Path> holderLogs = new ArrayList<>();
        List<Round> results = new ArrayList<>();
        ManagedChannel channel = null;
        try {
            Procs.awaitLine(log, "gatewayd: listening on port", gateway);
            int per = (connections + holderCount - 1) / holderCount;
            int held = 0;
            for (int h = 0; h < holderCount && held < connections; h++) {
                int count = Math.min(per, connections - held);
                Path holderLog = dir.resolve("holder-" + h + ".log");
                holderLogs.add(holderLog);
                holders.add(Procs.java(holderLog, List.of("-Xmx512m", "-XX:+UseSerialGC"), "io.cellgate.perf.harness.ConnectionHolder",
                        "--port", Integer.toString(port), "--count", Integer.toString(count), "--sources", "127.0.0." + (2 + h),
                        "--secret", ConnsScenario.SECRET, "--uid-base", Integer.toString(1 + held)));
                held += count;
            }
            int holding = 0;
            for (int h = 0; h < holders.size(); h++) {
                Matcher m = Pattern.compile("holding (\\d+)").matcher(Procs.awaitLine(holderLogs.get(h), "holder: holding", holders.get(h)));
                holding += m.find() ? Integer.parseInt(m.group(1)) : 0;
            }
            out.printf("%,d connections logged in%n", holding);
            Metadata auth = new Metadata();
            auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + PUSH_TOKEN);
            channel = NettyChannelBuilder.forAddress("127.0.0.1", pushPort).usePlaintext().maxInboundMessageSize(64 << 20).build();
            PushGrpc.PushBlockingStub push = PushGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
            PushToUsersRequest.Builder everyone = PushToUsersRequest.newBuilder();
            for (long uid = 1; uid <= connections; uid++) {
                everyone.addUids(uid);
            }
            Map<Long, Round> byPush = new LinkedHashMap<>();
            for (int r = 1; r <= rounds + 1; r++) {
                boolean ack = r == rounds + 1;
                Thread.sleep(1_000);
                long sent = System.nanoTime();
                PushMessage message = PushMessage.newBuilder().setCmd(1).setBody(ByteString.copyFrom(ByteBuffer.allocate(24).putLong(sent).array()))
                        .setPriority(1).setAck(ack).setAckTimeoutMs(10_000).build();
                PushToUsersReply reply = push.withDeadlineAfter(60, TimeUnit.SECONDS).pushToUsers(everyone.setMessage(message).build());
                long callMicros = (System.nanoTime() - sent) / 1_000;
                PushResult wanted = ack ? PushResult.DELIVERED : PushResult.SENT;
                int reached = (int) reply.getResultsList().stream().map(UserPushResult::getResult).filter(wanted::equals).count();
                byPush.put(reply.getPushId(), new Round(r, ack, reply.getPushId(), reply.getResultsCount(), reached, callMicros, 0, null));
                out.printf(Locale.ROOT, "round %d%s: %,d of %,d users %s, reply after %.1f ms%n", r, ack ? " (acks)" : "", reached,
                        reply.getResultsCount(), wanted, callMicros / 1000.0);
            }
            Thread.sleep(2_000);
            Map<Long, Histogram> seen = collect(holders, holderLogs);
            for (Round r : byPush.values()) {
                Histogram h = seen.getOrDefault(r.pushId(), new Histogram(60_000_000L, 3));
                Round full = new Round(r.round(), r.ack(), r.pushId(), r.users(), r.reached(), r.callMicros(), h.getTotalCount(), h);
                results.add(full);
                out.printf(Locale.ROOT, "round %d: %,d delivered; from the call: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", r.round(),
                        h.getTotalCount(), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
            }
        } finally {
            if (channel != null) {
                channel.shutdownNow();
            }
            for (Process p : holders) {
                p.getOutputStream().close();
            }
            for (Process p : holders) {
                Procs.stop(p);
            }
            Procs.stop(gateway);
        }
        write(report, connections, holderCount, rounds, results);
        return results;
    }

    /** Asks every holder for its push histograms and merges them by push id. */
    private static Map<Long, Histogram> collect(List<Process> holders, List<Path> logs) throws IOException, InterruptedException {
        for (Process p : holders) {
            p.getOutputStream().write("pushes\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            p.getOutputStream().flush();
        }
        Map<Long, Histogram> merged = new LinkedHashMap<>();
        Pattern line = Pattern.compile("holder: push (\\d+) (\\d+) (\\S+)");
        for (int h = 0; h < holders.size(); h++) {
            Procs.awaitLine(logs.get(h), "holder: pushes done", holders.get(h));
            for (String l : Files.readAllLines(logs.get(h))) {
                Matcher m = line.matcher(l);
                if (m.find()) {
                    Histogram part;
                    try {
                        part = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(m.group(3))), 0);
                    } catch (java.util.zip.DataFormatException e) {
                        throw new IOException("holder " + h + ": unreadable histogram", e);
                    }
                    merged.computeIfAbsent(Long.parseLong(m.group(1)), id -> new Histogram(60_000_000L, 3)).add(part);
                }
            }
        }
        return merged;
    }

    private static void write(Path report, int connections, int holders, int rounds, List<Round> results) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Push fan-out: one PushToUsers call to ").append(String.format(Locale.ROOT, "%,d", connections))
                .append(" idle connections, ").append(LocalDate.now(java.time.ZoneOffset.UTC)).append("\n\n");
        md.append("Machine: ").append(Procs.machine()).append(".\n\n");
        md.append("Command: `perf/run push --connections ").append(connections).append(" --holders ").append(holders)
                .append(" --rounds ").append(rounds).append("`\n\n");
        md.append("A gatewayd process (1 GiB heap, G1, 2 event loops, epoll) holds the connections, opened by ").append(holders)
                .append(" generator processes (each from its own loopback address), each connection logged in as its own user. ")
                .append("Every round is one `PushToUsers` call naming every user (priority P1, a 24-byte body holding the call's ")
                .append("`System.nanoTime`); the generators record when each push arrived (the monotonic clock is shared by the ")
                .append("processes of one machine). Rounds are a second apart; the first includes the gateway's JIT warm-up. The ")
                .append("last round asks for acks: its reply comes when every connection acknowledged. Gateway, generators and ")
                .append("the caller share the 2 cores.\n\n");
        md.append("| round | acks | users reached | call to reply (ms) | pushes delivered | delivery p50 (ms) | p99 (ms) | max (ms) |\n");
        md.append("|---:|---|---:|---:|---:|---:|---:|---:|\n");
        for (Round r : results) {
            md.append(String.format(Locale.ROOT, "| %d | %s | %,d of %,d | %.1f | %,d | %.1f | %.1f | %.1f |%n", r.round(), r.ack() ? "yes" : "no",
                    r.reached(), r.users(), r.callMicros() / 1000.0, r.delivered(), r.latency().getValueAtPercentile(50) / 1000.0,
                    r.latency().getValueAtPercentile(99) / 1000.0, r.latency().getMaxValue() / 1000.0));
        }
        boolean exact = results.stream().allMatch(r -> r.delivered() == connections && r.reached() == connections);
        md.append("\nDelivery time is from the caller's clock read just before the call to the generator reading the frame: ")
                .append("the push API call, the lookup of every user, the hand-over to the event loops, the writes, the loopback ")
                .append("and the generator's own event loop. ")
                .append(exact ? "In every round each of the " + connections + " connections received the push exactly once (a second "
                        + "arrival would count twice in \"pushes delivered\")."
                        : "Not every round reached every connection exactly once: see \"users reached\" and \"pushes delivered\".")
                .append("\n");
        Files.createDirectories(report.toAbsolutePath().getParent());
        Files.writeString(report, md.toString());
    }
}
