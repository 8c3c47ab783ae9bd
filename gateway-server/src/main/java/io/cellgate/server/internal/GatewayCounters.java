package io.cellgate.server.internal;

import java.util.concurrent.atomic.LongAdder;

/** Gateway-wide counters, cheap on the hot path (striped adders), read by reporters and tests. */
public final class GatewayCounters {
    final LongAdder inFlight = new LongAdder();
    final LongAdder acceptsRefused = new LongAdder();
    final LongAdder addressLimited = new LongAdder();
    final LongAdder acceptErrors = new LongAdder();
    final LongAdder slowReadersClosed = new LongAdder();
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

    /** Accepts that failed on the listening socket (e.g. out of file descriptors). */
    public long acceptErrors() {
        return acceptErrors.sum();
    }

    /** Connections refused because their address already held {@code max-connections-per-address}. */
    public long addressLimited() {
        return addressLimited.sum();
    }

    /** Connections closed because they let more than {@code max-outbound-bytes-per-connection} pile up unread. */
    public long slowReadersClosed() {
        return slowReadersClosed.sum();
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
