package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final NanoClock clock = now::get;

    @Test
    void fullBucketAdmitsBurstThenRefuses() {
        TokenBucket bucket = new TokenBucket(10, 5, clock);
        for (int i = 0; i < 5; i++) {
            assertThat(bucket.tryAcquire()).as("request %d", i).isTrue();
        }
        assertThat(bucket.tryAcquire()).isFalse();
        now.addAndGet(100_000_000L); // one interval at 10/s
        assertThat(bucket.tryAcquire()).isTrue();
        assertThat(bucket.tryAcquire()).isFalse();
    }

    @Test
    void steadyArrivalsAboveRateAdmitRateTimesDurationPlusBurst() {
        double rate = 1000;
        int burst = 50;
        TokenBucket bucket = new TokenBucket(rate, burst, clock);
        long admitted = 0;
        // 10 s of simulated time, offered at 3x the rate (one try every 333 us).
        for (long t = 0; t < 10_000_000_000L; t += 333_333) {
            now.set(1_000_000_000L + t);
            if (bucket.tryAcquire()) {
                admitted++;
            }
        }
        assertThat(admitted).isBetween((long) (rate * 10 * 0.98) + burst - 1, (long) (rate * 10 * 1.02) + burst);
    }

    @Test
    void idleBucketDoesNotFillPastBurst() {
        TokenBucket bucket = new TokenBucket(100, 3, clock);
        now.addAndGet(60_000_000_000L);
        int admitted = 0;
        while (bucket.tryAcquire()) {
            admitted++;
        }
        assertThat(admitted).isEqualTo(3);
    }

    @Test
    void invalidSettingsNameTheValue() {
        assertThatThrownBy(() -> new TokenBucket(0, 1, clock)).hasMessageContaining("rate: 0.0");
        assertThatThrownBy(() -> new TokenBucket(1, 0, clock)).hasMessage("burst: 0 (expected: >= 1)");
    }
}
