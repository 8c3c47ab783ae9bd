package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GcraRateTest {
    private static final long START = 1_000_000_000L;

    /** Takes tokens at {@code now} until refused; the bucket's state is left in {@code tat[0]}. */
    private static int takeAll(GcraRate rate, long[] tat, long now) {
        int taken = 0;
        long next;
        while ((next = rate.next(tat[0], now)) != GcraRate.REFUSED) {
            tat[0] = next;
            taken++;
        }
        return taken;
    }

    @Test
    void aFullBucketGivesItsBurstThenOneTokenPerInterval() {
        GcraRate rate = new GcraRate(10, 5);
        long[] tat = {START};
        assertThat(takeAll(rate, tat, START)).isEqualTo(5);
        assertThat(takeAll(rate, tat, START + 99_999_999L)).as("just under one interval at 10/s").isZero();
        assertThat(takeAll(rate, tat, START + 100_000_000L)).isEqualTo(1);
    }

    @Test
    void bucketsOfOneRateAreIndependentAndAnIdleOneFillsOnlyToItsBurst() {
        GcraRate rate = new GcraRate(100, 3);
        long[] busy = {START};
        long[] idle = {START};
        assertThat(takeAll(rate, busy, START)).isEqualTo(3);
        assertThat(takeAll(rate, idle, START + 60_000_000_000L)).isEqualTo(3);
        assertThat(takeAll(rate, busy, START)).isZero();
    }

    @Test
    void steadyArrivalsAboveTheRateGetTheRate() {
        GcraRate rate = new GcraRate(1000, 50);
        long[] tat = {START};
        long admitted = 0;
        for (long t = 0; t < 10_000_000_000L; t += 333_333) {
            long next = rate.next(tat[0], START + t);
            if (next != GcraRate.REFUSED) {
                tat[0] = next;
                admitted++;
            }
        }
        assertThat(admitted).isBetween(9_800L + 49, 10_200L + 50);
    }

    @Test
    void invalidSettingsNameTheValue() {
        assertThatThrownBy(() -> new GcraRate(0, 1)).hasMessageContaining("rate: 0.0");
        assertThatThrownBy(() -> new GcraRate(1, 0)).hasMessage("burst: 0 (expected: >= 1)");
    }
}
