package io.cellgate.perf.load;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/** The load generators' clock: waits out a run, adding up the recorder's intervals and printing a live line. */
final class Progress {
    private Progress() {
    }

    /** Runs until {@code duration} after {@code startNanos}; returns every latency recorded meanwhile. */
    static Histogram run(Duration duration, long startNanos, Recorder recorder, PrintStream progress, Supplier<String> counters)
            throws InterruptedException {
        Histogram total = new Histogram(3);
        Histogram interval = null;
        long durationNanos = duration.toNanos();
        long nextReport = startNanos + TimeUnit.SECONDS.toNanos(1);
        while (System.nanoTime() - startNanos < durationNanos) {
            long sleep = Math.min(nextReport, startNanos + durationNanos) - System.nanoTime();
            if (sleep > 0) {
                TimeUnit.NANOSECONDS.sleep(sleep);
            }
            interval = recorder.getIntervalHistogram(interval);
            total.add(interval);
            if (System.nanoTime() >= nextReport) {
                nextReport += TimeUnit.SECONDS.toNanos(1);
                progress.printf("\r[%4ds] %s  p50 %.2f ms  p99 %.2f ms   ", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos),
                        counters.get(), interval.getValueAtPercentile(50) / 1000.0, interval.getValueAtPercentile(99) / 1000.0);
                progress.flush();
            }
        }
        progress.println();
        return total;
    }
}
