package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A simulated gateway in front of a backend of fixed capacity: each window, 2x capacity arrives with
 * mixed priorities from many users; the load level is what was admitted over the capacity.
 */
class PriorityAdmissionTest {
    private static final int CAPACITY = 10_000;

    @Test
    void underOverloadP0IsKeptAndP3IsShedFirst() {
        PriorityAdmission admission = new PriorityAdmission(0.05, 0.01, 0.95);
        SplittableRandom random = new SplittableRandom(11);
        long[] offered = new long[4];
        long[] admitted = new long[4];
        double load = 0;
        for (int window = 0; window < 200; window++) {
            admission.adapt(load);
            long admittedThisWindow = 0;
            for (int i = 0; i < 2 * CAPACITY; i++) {
                Priority p = Priority.values()[random.nextInt(4)];
                long uid = random.nextLong(1_000_000);
                boolean ok = admission.admit(PriorityAdmission.level(p, PriorityAdmission.userLevel(uid, 7)));
                if (ok) {
                    admittedThisWindow++;
                }
                if (window >= 100) {
                    offered[p.ordinal()]++;
                    admitted[p.ordinal()] += ok ? 1 : 0;
                }
            }
            load = (double) admittedThisWindow / CAPACITY;
        }
        double[] share = new double[4];
        for (int p = 0; p < 4; p++) {
            share[p] = (double) admitted[p] / offered[p];
        }
        assertThat(share[0]).as("P0 admitted").isGreaterThanOrEqualTo(0.999);
        assertThat(share[3]).as("P3 admitted").isLessThanOrEqualTo(share[2]);
        assertThat(share[2]).as("P2 admitted").isLessThanOrEqualTo(share[1]);
        assertThat(share[3]).as("P3 is shed first").isLessThan(0.05);
        // Admitted traffic settles near capacity (within the adaptation step), not far below it.
        double admittedPerWindow = (admitted[0] + admitted[1] + admitted[2] + admitted[3]) / 100.0;
        assertThat(admittedPerWindow).isBetween(CAPACITY * 0.85, CAPACITY * 1.05);
    }

    @Test
    void aUsersRequestsOfOnePriorityAreAllAdmittedOrAllRefusedWithinAWindow() {
        PriorityAdmission admission = new PriorityAdmission(0.05, 0.01, 0.95);
        SplittableRandom random = new SplittableRandom(3);
        double load = 2;
        for (int window = 0; window < 30; window++) {
            admission.adapt(load);
            Map<String, Boolean> decision = new HashMap<>();
            for (int i = 0; i < 20_000; i++) {
                long uid = random.nextLong(500);
                Priority p = Priority.values()[random.nextInt(4)];
                boolean ok = admission.admit(PriorityAdmission.level(p, PriorityAdmission.userLevel(uid, 1)));
                Boolean before = decision.putIfAbsent(uid + "/" + p, ok);
                assertThat(before == null || before == ok).as("user %d %s in window %d", uid, p, window).isTrue();
            }
            load = window < 15 ? 2 : 0.5;
        }
    }

    @Test
    void theUserLevelChangesWithTheHourSoNoUserIsAlwaysLast() {
        int changed = 0;
        for (long uid = 0; uid < 1000; uid++) {
            if (PriorityAdmission.userLevel(uid, 100) != PriorityAdmission.userLevel(uid, 101)) {
                changed++;
            }
        }
        assertThat(changed).isGreaterThan(950);
    }

    @Test
    void theOperatorCapRefusesEverythingBelowItAndClears() {
        PriorityAdmission admission = new PriorityAdmission(0.05, 0.01, 0.95);
        admission.degrade(Priority.P0);
        assertThat(admission.admit(PriorityAdmission.level(Priority.P0, 127))).isTrue();
        assertThat(admission.admit(PriorityAdmission.level(Priority.P1, 0))).isFalse();
        assertThat(admission.degradeLevel()).isEqualTo(Priority.P0);
        admission.degrade(null);
        assertThat(admission.admit(PriorityAdmission.level(Priority.P3, 127))).isTrue();
        assertThat(admission.degradeLevel()).isNull();
    }
}
