package io.cellgate.perf.load;

import io.cellgate.protocol.v1.Code;
import java.io.PrintStream;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Prints a {@link LoadGenerator.Result} for people. */
public final class LoadReport {
    private LoadReport() {
    }

    public static void print(LoadGenerator.Result r, PrintStream out) {
        out.printf("requests: %,d sent, %,d answered, %,d unanswered in %.1f s (%.0f req/s answered)%n",
                r.sent(), r.answered(), r.unanswered(), r.seconds(), r.answered() / r.seconds());
        out.print("codes:");
        for (int i = 0; i < r.codes().length; i++) {
            if (r.codes()[i] > 0) {
                Code code = Code.forNumber(i);
                out.printf(" %s=%,d", code == null ? "code" + i : code.name(), r.codes()[i]);
            }
        }
        out.println();
        Histogram h = r.latencyMicros();
        out.printf("latency from intended send time (ms): p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n",
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0, h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0);
        out.println("served by (OK responses):");
        for (Map.Entry<String, Long> e : r.servedBy().entrySet()) {
            out.printf("  %-16s %,d%n", e.getKey(), e.getValue());
        }
        if (r.loginFailures() > 0) {
            out.printf("login failures: %,d%n", r.loginFailures());
        }
    }
}
