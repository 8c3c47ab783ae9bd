package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class KeyedTokenBucketsTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void eachKeyHasItsOwnBucket() {
        KeyedTokenBuckets buckets = new KeyedTokenBuckets(10, 3, 1 << 16, now::get);
        for (long user = 1; user <= 1000; user++) {
            for (int i = 0; i < 3; i++) {
                assertThat(buckets.tryAcquire(user)).as("user %d request %d", user, i).isTrue();
            }
            assertThat(buckets.tryAcquire(user)).isFalse();
        }
        now.addAndGet(100_000_000L);
        assertThat(buckets.tryAcquire(1)).isTrue();
        assertThat(buckets.tryAcquire(1)).isFalse();
    }

    @Test
    void aKeyOverItsRateIsHeldToTheRateOverTime() {
        KeyedTokenBuckets buckets = new KeyedTokenBuckets(50, 10, 1 << 10, now::get);
        long admitted = 0;
        for (int ms = 0; ms < 10_000; ms++) {
            now.addAndGet(1_000_000L);
            for (int i = 0; i < 2; i++) {
                if (buckets.tryAcquire(77)) {
                    admitted++;
                }
            }
        }
        assertThat((double) admitted).isBetween((50 * 10 + 10) * 0.98, (50 * 10 + 10) * 1.02);
    }

    @Test
    void millionsOfUsersFitInFixedMemoryAndIdleStateExpiresByItself() {
        // 1M users in 2^20 slots (8 MiB); each sends its burst, the bucket state is reused as it expires.
        KeyedTokenBuckets buckets = new KeyedTokenBuckets(1, 2, 1 << 20, now::get);
        assertThat(buckets.capacity()).isEqualTo(1 << 20);
        long refusedWithinBurst = 0;
        for (long user = 0; user < 1_000_000; user++) {
            if (!buckets.tryAcquire(user)) {
                refusedWithinBurst++;
            }
        }
        // A fresh user is never refused its first request, even when the table is crowded.
        assertThat(refusedWithinBurst).isZero();
        // A user hammering its bucket is still limited among a million others.
        long admitted = 0;
        for (int i = 0; i < 100; i++) {
            if (buckets.tryAcquire(123_456)) {
                admitted++;
            }
        }
        assertThat(admitted).isLessThanOrEqualTo(2);
        // After the burst period everyone is full again, with no sweeper having run.
        now.addAndGet(10_000_000_000L);
        long refusedAfterIdle = 0;
        for (long user = 0; user < 1_000_000; user += 7) {
            for (int i = 0; i < 2; i++) {
                if (!buckets.tryAcquire(user)) {
                    refusedAfterIdle++;
                }
            }
        }
        assertThat(refusedAfterIdle).isZero();
    }
}
