package io.cellgate.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.server.config.OutlierPolicy;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Passive health of one AO endpoint on a clock the test moves: which failures count against the AO,
 * how long an ejection lasts, and that an ejected endpoint is ejected once, not once per failed call.
 */
class AoEndpointTest {
    private long now = 1_000_000_000L;
    private final OutlierPolicy policy = new OutlierPolicy(3, Duration.ofSeconds(10), Duration.ofMinutes(5), 0.5,
            OutlierPolicy.DEFAULT_FAILURE_CODES, 0.5, 20);
    private final AoEndpoint endpoint = new AoEndpoint("127.0.0.1:1", new ManagedChannel[0], policy, () -> now);

    private void fail(int times, Status.Code code, boolean deadlineBlamesAo) {
        for (int i = 0; i < times; i++) {
            endpoint.record(code, deadlineBlamesAo);
        }
    }

    @Test
    void deadlinesTheAoIsNotToBlameForNeverEject() {
        // A client's shortened deadline, or one missed while the gateway's loops lagged: thousands, no ejection.
        fail(1000, Status.Code.DEADLINE_EXCEEDED, false);
        assertThat(endpoint.ejected()).isFalse();
        // The gateway's own deadline, missed by the AO: three in a row eject.
        fail(3, Status.Code.DEADLINE_EXCEEDED, true);
        assertThat(endpoint.ejected()).isTrue();
    }

    @Test
    void businessErrorsAndCancellationsSayNothingAboutHealth() {
        fail(100, Status.Code.INTERNAL, true);
        fail(100, Status.Code.CANCELLED, true);
        fail(100, Status.Code.NOT_FOUND, true);
        assertThat(endpoint.ejected()).isFalse();
    }

    @Test
    void oneEjectionPerPeriodHoweverManyCallsFailMeanwhile() {
        fail(3, Status.Code.UNAVAILABLE, true);
        assertThat(endpoint.ejected()).isTrue();
        // Calls in flight when it was ejected keep failing: they do not eject it again or lengthen it.
        fail(500, Status.Code.UNAVAILABLE, true);
        now += Duration.ofSeconds(10).toNanos() - 1;
        assertThat(endpoint.ejected()).as("10 s, the first ejection's length").isTrue();
        now += 2;
        assertThat(endpoint.ejected()).isFalse();
        // Failing again after it came back: the second ejection, 20 s.
        fail(3, Status.Code.UNAVAILABLE, true);
        now += Duration.ofSeconds(20).toNanos() - 1;
        assertThat(endpoint.ejected()).as("20 s, the second ejection's length").isTrue();
        now += 2;
        assertThat(endpoint.ejected()).isFalse();
    }

    @Test
    void aSuccessBreaksTheRunAndALongHealthyTimeForgetsPastEjections() {
        fail(2, Status.Code.UNAVAILABLE, true);
        endpoint.record(Status.Code.OK, true);
        fail(2, Status.Code.UNAVAILABLE, true);
        assertThat(endpoint.ejected()).as("no three failures in a row").isFalse();

        fail(1, Status.Code.UNAVAILABLE, true); // third in a row now
        assertThat(endpoint.ejected()).isTrue();
        now += Duration.ofSeconds(10).toNanos() + Duration.ofMinutes(5).toNanos() + 1;
        endpoint.record(Status.Code.OK, true); // healthy for longer than the longest ejection
        fail(3, Status.Code.UNAVAILABLE, true);
        now += Duration.ofSeconds(10).toNanos() + 1;
        assertThat(endpoint.ejected()).as("counted as a first ejection again: 10 s").isFalse();
    }

    @Test
    void aLowSuccessRateEjectsOnlyOverEnoughCalls() {
        OutlierPolicy byRate = new OutlierPolicy(1000, Duration.ofSeconds(10), Duration.ofMinutes(5), 0.5,
                OutlierPolicy.DEFAULT_FAILURE_CODES, 0.5, 20);
        AoEndpoint e = new AoEndpoint("127.0.0.1:2", new ManagedChannel[0], byRate, () -> now);
        for (int i = 0; i < 9; i++) { // 6 failures, 3 successes: too few calls to judge
            e.record(i % 3 == 2 ? Status.Code.OK : Status.Code.UNAVAILABLE, true);
        }
        e.judgeSuccessRate();
        assertThat(e.ejected()).isFalse();
        for (int i = 0; i < 30; i++) { // 20 failures, 10 successes: a third succeed, under one half
            e.record(i % 3 == 2 ? Status.Code.OK : Status.Code.UNAVAILABLE, true);
        }
        e.judgeSuccessRate();
        assertThat(e.ejected()).isTrue();
        now += Duration.ofSeconds(10).toNanos() + 1;
        assertThat(e.ejected()).isFalse();
        for (int i = 0; i < 30; i++) { // half succeed: not under the minimum
            e.record(i % 2 == 0 ? Status.Code.OK : Status.Code.UNAVAILABLE, true);
        }
        e.judgeSuccessRate();
        assertThat(e.ejected()).isFalse();
    }

    @Test
    void atMostTheMaxEjectionShareOfASetIsEjectedAtOnceAndAlwaysOne() {
        // Four endpoints at 50%: two may be out at once; the third stays in rotation however it fails.
        OutlierPolicy half = new OutlierPolicy(3, Duration.ofSeconds(10), Duration.ofMinutes(5), 0.5,
                OutlierPolicy.DEFAULT_FAILURE_CODES, 0.5, 20, 50);
        AoEndpoint[] set = new AoEndpoint[4];
        for (int i = 0; i < set.length; i++) {
            set[i] = new AoEndpoint("127.0.0.1:" + (10 + i), new ManagedChannel[0], half, () -> now);
        }
        for (AoEndpoint e : set) {
            e.set(set);
        }
        for (AoEndpoint e : set) {
            for (int i = 0; i < 3; i++) {
                e.record(Status.Code.UNAVAILABLE, true);
            }
        }
        assertThat(java.util.Arrays.stream(set).filter(AoEndpoint::ejected).count()).isEqualTo(2);
        assertThat(set[2].ejected()).isFalse();
        assertThat(set[3].ejected()).isFalse();
        // Once the first two are back, the others may go.
        now += Duration.ofSeconds(10).toNanos() + 1;
        for (int i = 0; i < 3; i++) {
            set[2].record(Status.Code.UNAVAILABLE, true);
        }
        assertThat(set[2].ejected()).isTrue();

        // A set of one may always eject its endpoint, whatever the share (the set's health then decides).
        OutlierPolicy none = new OutlierPolicy(3, Duration.ofSeconds(10), Duration.ofMinutes(5), 0.5,
                OutlierPolicy.DEFAULT_FAILURE_CODES, 0.5, 20, 0);
        AoEndpoint alone = new AoEndpoint("127.0.0.1:20", new ManagedChannel[0], none, () -> now);
        for (int i = 0; i < 3; i++) {
            alone.record(Status.Code.UNAVAILABLE, true);
        }
        assertThat(alone.ejected()).isTrue();
    }
}
