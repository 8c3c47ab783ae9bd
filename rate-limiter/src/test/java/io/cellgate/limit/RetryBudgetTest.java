package io.cellgate.limit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RetryBudgetTest {
    @Test
    void retriesStayWithinTheRatioOfRequestsAfterTheSavedTokens() {
        RetryBudget budget = new RetryBudget(0.1, 10);
        int retries = 0;
        for (int i = 0; i < 1000; i++) {
            budget.onRequest();
            if (budget.tryRetry()) {
                retries++;
            }
        }
        // 10 saved tokens, then one retry per 10 requests.
        assertThat(retries).isBetween(10 + 99, 10 + 100);
        RetryBudget none = new RetryBudget(0, 0);
        none.onRequest();
        assertThat(none.tryRetry()).isFalse();
    }
}
