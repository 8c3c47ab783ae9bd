package io.cellgate.server.internal;

import java.util.concurrent.atomic.LongAdder;

/** Gateway-wide counters, cheap on the hot path (striped adders), read by reporters and tests. */
public final class GatewayCounters {
    final LongAdder inFlight = new LongAdder();
    final LongAdder acceptsRefused = new LongAdder();
    final LongAdder loginsRefused = new LongAdder();

    public long inFlight() {
        return inFlight.sum();
    }

    public long acceptsRefused() {
        return acceptsRefused.sum();
    }

    public long loginsRefused() {
        return loginsRefused.sum();
    }
}
