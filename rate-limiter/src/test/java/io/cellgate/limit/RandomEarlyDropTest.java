package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomEarlyDropTest {
    @Test
    void theDropFractionFollowsTheRampInTheMarginalBand() {
        RandomEarlyDrop drop = new RandomEarlyDrop(1.2, 2.0);
        SplittableRandom random = new SplittableRandom(5);
        for (double load = 1.0; load <= 2.2; load += 0.05) {
            int dropped = 0;
            int n = 100_000;
            for (int i = 0; i < n; i++) {
                if (drop.drop(Priority.P2, Priority.P2, load, random.nextDouble())) {
                    dropped++;
                }
            }
            double expected = load <= 1.2 ? 0 : load >= 2.0 ? 1 : (load - 1.2) / 0.8;
            assertThat((double) dropped / n).as("drop fraction at load %.2f", load).isBetween(expected - 0.03, expected + 0.03);
        }
    }

    @Test
    void onlyTheBoundaryPriorityIsDroppedAndNeverP0() {
        RandomEarlyDrop drop = new RandomEarlyDrop(1.2, 2.0);
        assertThat(drop.drop(Priority.P1, Priority.P2, 5.0, 0.0)).isFalse();
        assertThat(drop.drop(Priority.P0, Priority.P0, 5.0, 0.0)).isFalse();
        assertThat(drop.drop(Priority.P2, Priority.P2, 5.0, 0.999)).isTrue();
    }
}
