package io.cellgate.server.internal;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A Prometheus histogram of durations, one series per label value (a command word), recorded on the
 * event loops without a lock: each series keeps one stripe of bucket counters per event loop, so a
 * loop only ever adds to its own cache lines; a scrape adds the stripes up. Recording is one bucket
 * search over a few bounds and two uncontended atomic adds (atomic rather than plain stores so that a
 * stray writer on another thread still counts exactly).
 */
public final class LatencyHistogram implements Collector {
    /** Longs between two loops' stripes, so that no two loops write one cache line. */
    private static final int PAD = 8;

    private final String name;
    private final String help;
    private final String labelName;
    /** Upper bounds in nanoseconds, ascending; a last, implicit bucket is +Inf. */
    private final long[] boundsNanos;
    /** The same bounds in seconds with +Inf last, as the exposition wants them. */
    private final double[] boundsSeconds;
    private final int stripes;
    private final ConcurrentHashMap<String, Series> series = new ConcurrentHashMap<>();

    /**
     * @param stripes one per event loop that records (loop index 0 .. stripes-1)
     * @param upperBoundsSeconds the classic bucket bounds, ascending, without +Inf
     */
    public LatencyHistogram(String name, String help, String labelName, int stripes, double... upperBoundsSeconds) {
        if (stripes < 1) {
            throw new IllegalArgumentException("stripes: " + stripes + " (expected at least 1)");
        }
        this.name = name;
        this.help = help;
        this.labelName = labelName;
        this.stripes = stripes;
        this.boundsNanos = new long[upperBoundsSeconds.length];
        this.boundsSeconds = new double[upperBoundsSeconds.length + 1];
        for (int i = 0; i < upperBoundsSeconds.length; i++) {
            if (i > 0 && upperBoundsSeconds[i] <= upperBoundsSeconds[i - 1]) {
                throw new IllegalArgumentException("bucket bounds must ascend: " + java.util.Arrays.toString(upperBoundsSeconds));
            }
            boundsNanos[i] = Math.round(upperBoundsSeconds[i] * 1e9);
            boundsSeconds[i] = upperBoundsSeconds[i];
        }
        boundsSeconds[upperBoundsSeconds.length] = Double.POSITIVE_INFINITY;
    }

    /** The series of {@code labelValue}: the same object every time, so counts survive a command-table rebuild. */
    public Series series(String labelValue) {
        return series.computeIfAbsent(labelValue, Series::new);
    }

    @Override
    public MetricFamilyDescriptor getMetricFamilyDescriptor() {
        return MetricFamilyDescriptor.histogram(name).help(help).labelNames(labelName).build();
    }

    @Override
    public MetricSnapshot collect() {
        HistogramSnapshot.Builder snapshot = HistogramSnapshot.builder().name(name).help(help);
        for (Series s : List.copyOf(series.values())) {
            long[] counts = s.counts();
            snapshot.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                    .labels(Labels.of(labelName, s.labelValue))
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(boundsSeconds, counts))
                    .sum(s.sumNanos() / 1e9)
                    .build());
        }
        return snapshot.build();
    }

    /** One label value's histogram: per-loop stripes of (bucket counts..., sum of nanoseconds). */
    public final class Series {
        final String labelValue;
        /** Slots of one stripe: one per bucket (the last is +Inf), then the sum. */
        private final int slots = boundsNanos.length + 2;
        private final int stride = slots + PAD;
        private final AtomicLongArray cells = new AtomicLongArray(stripes * stride);

        private Series(String labelValue) {
            this.labelValue = labelValue;
        }

        /** Records one duration, on event loop {@code loop} (its stripe; any thread may call it). */
        public void record(int loop, long nanos) {
            long value = Math.max(0, nanos);
            int bucket = 0;
            while (bucket < boundsNanos.length && value > boundsNanos[bucket]) {
                bucket++;
            }
            int base = Math.floorMod(loop, stripes) * stride;
            cells.getAndIncrement(base + bucket);
            cells.getAndAdd(base + slots - 1, value);
        }

        /** Bucket counts (not cumulative, +Inf last), summed over the stripes. */
        long[] counts() {
            long[] out = new long[boundsNanos.length + 1];
            for (int stripe = 0; stripe < stripes; stripe++) {
                int base = stripe * stride;
                for (int b = 0; b < out.length; b++) {
                    out[b] += cells.get(base + b);
                }
            }
            return out;
        }

        /** How many durations were recorded. */
        public long count() {
            long n = 0;
            for (long c : counts()) {
                n += c;
            }
            return n;
        }

        long sumNanos() {
            long sum = 0;
            for (int stripe = 0; stripe < stripes; stripe++) {
                sum += cells.get(stripe * stride + slots - 1);
            }
            return sum;
        }
    }
}
