package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RetryBudgetTest {
    @Test
    void retriesStayWithinTheRatioOfRequestsAfterTheSavedTokens() {
        RetryBudget budget = new RetryBudget(0.1, 10);
        int retries = 0;
        for (int i = 0; i < 1000; i++) {
            budget.onRequest(0);
            if (budget.tryRetry()) {
                retries++;
            }
        }
        // 10 saved tokens, then one retry per 10 requests.
        assertThat(retries).isBetween(10 + 99, 10 + 100);
        RetryBudget none = new RetryBudget(0, 0);
        none.onRequest(0);
        assertThat(none.tryRetry()).isFalse();
    }

    @Test
    void theCapGrowsWithTheRequestRateSoABurstOfFailuresAtOnceCanAllBeRetried() {
        // 2,000 requests a second for 12 s: 10% of 10 s of them (2,000) may be saved, not just max (100).
        RetryBudget budget = new RetryBudget(0.1, 100, 10);
        RetryBudget fixed = new RetryBudget(0.1, 100, 0);
        for (long i = 0; i < 24_000; i++) {
            long now = i * 500_000L; // one request every 0.5 ms
            budget.onRequest(now);
            fixed.onRequest(now);
        }
        assertThat(budget.available()).isEqualTo(2_000);
        assertThat(fixed.available()).isEqualTo(100);
        int retried = 0;
        while (budget.tryRetry()) {
            retried++;
        }
        assertThat(retried).isEqualTo(2_000);
        // When the traffic falls, so does the cap: what is saved beyond it is kept but no more is earned.
        RetryBudget slow = new RetryBudget(0.1, 100, 10);
        for (long i = 0; i < 100; i++) {
            slow.onRequest(i * 100_000_000L); // 10 requests a second
        }
        assertThat(slow.available()).isEqualTo(100);
    }
}
