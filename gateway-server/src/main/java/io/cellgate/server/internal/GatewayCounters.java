package io.cellgate.server.internal;

import java.util.concurrent.atomic.LongAdder;

/** Gateway-wide counters, cheap on the hot path (striped adders), read by reporters and tests. */
public final class GatewayCounters {
    final LongAdder inFlight = new LongAdder();
    final LongAdder acceptsRefused = new LongAdder();
    final LongAdder loginsRefused = new LongAdder();
    final LongAdder loginsOk = new LongAdder();
    final LongAdder loginsFailed = new LongAdder();
    final LongAdder connectionsAccepted = new LongAdder();
    final LongAdder unknownCommands = new LongAdder();
    final LongAdder requestsBeforeLogin = new LongAdder();
    final LongAdder crossCity = new LongAdder();
    final LongAdder badFrames = new LongAdder();
    final LongAdder framesIn = new LongAdder();
    final LongAdder retries = new LongAdder();

    public long inFlight() {
        return inFlight.sum();
    }

    public long acceptsRefused() {
        return acceptsRefused.sum();
    }

    public long loginsRefused() {
        return loginsRefused.sum();
    }

    public long loginsOk() {
        return loginsOk.sum();
    }

    public long loginsFailed() {
        return loginsFailed.sum();
    }

    public long connectionsAccepted() {
        return connectionsAccepted.sum();
    }

    public long unknownCommands() {
        return unknownCommands.sum();
    }

    public long requestsBeforeLogin() {
        return requestsBeforeLogin.sum();
    }

    public long crossCityRequests() {
        return crossCity.sum();
    }

    public long badFrames() {
        return badFrames.sum();
    }

    public long retries() {
        return retries.sum();
    }

    public long framesIn() {
        return framesIn.sum();
    }

}
