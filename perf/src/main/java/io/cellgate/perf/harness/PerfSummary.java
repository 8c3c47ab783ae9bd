package io.cellgate.perf.harness;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a whole process spent its CPU on, kernel included: Linux {@code perf record} of the
 * {@code cpu-clock} event on the process, its compiled Java methods named from the JVM's own
 * map ({@code jcmd Compiler.perfmap}). JFR sees Java frames only; at low request rates most of a
 * proxy's time per request is in system calls and wake-ups, which only this sees. Summarized by
 * thread, by where the time went (kernel, compiled Java by library, the JVM itself, native
 * libraries) and by hottest symbol.
 */
final class PerfSummary {
    /** Samples per second per CPU: often enough for a few thousand samples in 20 s, not so often it costs. */
    static final int FREQUENCY = 997;
    /** {@code perf report -n} lines: percent, samples, then the sort keys. */
    private static final Pattern LINE = Pattern.compile("^\\s+([\\d.]+)%\\s+(\\d+)\\s+(.+?)\\s*$");
    /** A {@code dso,sym} key: the shared object (may hold spaces: {@code [JIT] tid 123}), {@code [k]} or {@code [.]}, the symbol. */
    private static final Pattern SYMBOL = Pattern.compile("^(.*?)\\s+\\[([.k])\\]\\s+(.*)$");

    private PerfSummary() {
    }

    /**
     * Summarizes a recording again: {@code PerfSummary DATA SECONDS REQUESTS_PER_SECOND} (the JVM's
     * {@code /tmp/perf-PID.map} must still be there for its compiled methods' names).
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: PerfSummary PERF_DATA SECONDS REQUESTS_PER_SECOND");
            System.exit(2);
        }
        System.out.print(summarize(0, Path.of(args[0]), Integer.parseInt(args[1]), Double.parseDouble(args[2]), 30));
    }

    /** Whether Linux perf is installed here. */
    static boolean available() {
        try {
            Procs.run("perf", "--version");
            return true;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Starts recording {@code pids} into {@code data} for {@code seconds}; the returned process ends when done. */
    static Process record(List<Long> pids, int seconds, Path data) throws IOException {
        return new ProcessBuilder("perf", "record", "-q", "-e", "cpu-clock", "-F", Integer.toString(FREQUENCY), "-p",
                String.join(",", pids.stream().map(String::valueOf).toList()), "-o", data.toString(), "--", "sleep",
                Integer.toString(seconds))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /**
     * A markdown summary of {@code data} recorded over {@code seconds} at {@code requestsPerSecond};
     * the {@code top} hottest symbols. {@code jvmPid}, when not 0, is a JVM still running whose JIT
     * map is written now so its compiled methods have names.
     */
    static String summarize(long jvmPid, Path data, int seconds, double requestsPerSecond, int top)
            throws IOException, InterruptedException {
        if (jvmPid != 0) {
            Procs.run(Procs.jcmd(), Long.toString(jvmPid), "Compiler.perfmap");
        }
        Map<String, Long> byThread = counts(report(data, "comm"));
        long samples = byThread.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Long> byWhere = new LinkedHashMap<>();
        Map<String, Long> bySymbol = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : counts(report(data, "dso,sym")).entrySet()) {
            Matcher m = SYMBOL.matcher(e.getKey());
            if (!m.matches()) {
                continue;
            }
            String dso = m.group(1);
            boolean kernel = m.group(2).equals("k");
            String symbol = m.group(3);
            byWhere.merge(where(dso, kernel, symbol), e.getValue(), Long::sum);
            bySymbol.merge((kernel ? "[kernel] " : "") + shortName(symbol), e.getValue(), Long::sum);
        }
        double cores = samples / (double) FREQUENCY / seconds;
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "%,d samples of `perf record -e cpu-clock -F %d -p PIDS`: %.2f cores busy, %.1f µs of CPU "
                + "per request at %,.0f/s.%n%n", samples, FREQUENCY, cores, cores * 1e6 / Math.max(1, requestsPerSecond), requestsPerSecond));
        table(md, "thread (Linux name, 15 characters)", byThread, samples, 8);
        table(md, "where (kernel, compiled Java by library, the JVM, native libraries)", byWhere, samples, 20);
        table(md, "hottest symbols (self time)", bySymbol, samples, top);
        return md.toString();
    }

    private static List<String> report(Path data, String sort) throws IOException, InterruptedException {
        return Procs.run("perf", "report", "-i", data.toString(), "--stdio", "--no-children", "-n", "-g", "none", "--sort", sort)
                .lines().toList();
    }

    /** Sample counts by sort key, in the report's order (largest first). */
    private static Map<String, Long> counts(List<String> lines) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                out.merge(m.group(3), Long.parseLong(m.group(2)), Long::sum);
            }
        }
        return out;
    }

    private static String where(String dso, boolean kernel, String symbol) {
        if (kernel) {
            return "kernel (system calls, TCP, scheduling)";
        }
        if (dso.startsWith("[JIT]") || (dso.startsWith("perf-") && dso.endsWith(".map"))) {
            String method = javaMethod(symbol);
            return method == null ? "JVM stubs and interpreter" : "Java: " + JfrSummary.layer(method.substring(0, method.lastIndexOf('.')));
        }
        if (dso.startsWith("libjvm")) {
            return "the JVM (JIT compiler, GC, runtime)";
        }
        if (dso.contains("netty")) {
            return "Netty's native transport (JNI)";
        }
        return "native: " + dso;
    }

    /** {@code io.netty.buffer.AbstractByteBuf.readableBytes} from the map's {@code int io.netty...readableBytes()}; null for stubs. */
    private static String javaMethod(String symbol) {
        int paren = symbol.indexOf('(');
        if (paren < 0) {
            return null;
        }
        String head = symbol.substring(0, paren);
        String method = head.substring(head.lastIndexOf(' ') + 1);
        return method.indexOf('.') > 0 ? method : null;
    }

    private static String shortName(String symbol) {
        String method = javaMethod(symbol);
        return method != null ? method : symbol;
    }

    private static void table(StringBuilder md, String title, Map<String, Long> counts, long samples, int top) {
        List<Map.Entry<String, Long>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        md.append("| ").append(title).append(" | share |\n|---|---|\n");
        for (Map.Entry<String, Long> e : sorted.subList(0, Math.min(top, sorted.size()))) {
            md.append(String.format(Locale.ROOT, "| `%s` | %.1f%% |%n", e.getKey().replace("|", "\\|"),
                    100.0 * e.getValue() / Math.max(1, samples)));
        }
        md.append('\n');
    }
}
