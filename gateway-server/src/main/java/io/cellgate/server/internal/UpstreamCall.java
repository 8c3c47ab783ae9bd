package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.TimeUnit;

/**
 * One request forwarded to an AO: a unary gRPC call and its listener. Started on the client's event
 * loop; its callbacks run on the upstream channel's loop and hand the outcome to the session's
 * {@link ResponseWriter}. The fields written by callbacks are read after that hand-off (the queue
 * orders them).
 */
final class UpstreamCall extends ClientCall.Listener<ByteString> {
    final long seq;
    private final ClientSession session;
    /** The response writer of the session's loop. */
    private final ResponseWriter writer;
    private final AoEndpoint endpoint;
    private final GatewayCounters counters;
    /** The call: gRPC's, or the lean client's (one of the two). */
    private ClientCall<ByteString, ByteString> call;
    private LeanCall leanCall;
    private ByteString responseBody;
    /** When the AO call started and ended (System.nanoTime). */
    private long callStartNanos;
    /** When this call, unanswered, counts as stalled at its set (its set limit's bin for it). */
    private long stallAtNanos = io.cellgate.limit.SetConcurrencyLimit.NOT_STARTED;
    private long callEndNanos;
    private Status status;
    /** The AO's fence refused the call: the routes it was dispatched under predate a city switch. */
    private boolean fenced;

    /** What a retry needs: the set tried, the request, its absolute deadline and attempt number. */
    final Command command;
    final int setIndex;
    final ByteString body;
    final long deadlineNanos;
    final int attempt;
    final long startNanos;
    final String dye;
    private final String setName;
    private final long epoch;
    private final AccessLog accessLog;
    /** The deadline is the command's own timeout: not shortened by the client, not what a retry had left. */
    private final boolean ownDeadline;
    /** The gateway's lag signal: a deadline missed while its loops were late is not the AO's fault. */
    private final io.cellgate.limit.OverloadSignals signals;
    /** The set's concurrency limit this call holds a place in until it closes; null when limits are off. */
    private final io.cellgate.limit.SetConcurrencyLimit setLimit;

    /** The W3C traceparent sent to the AO (a retry sends the same). */
    final String traceparent;

    /** The connection this call answers. */
    ClientSession session() {
        return session;
    }

    UpstreamCall(ClientSession session, ResponseWriter writer, long seq, AoEndpoint endpoint, GatewayCounters counters, Command command, long startNanos,
                 String setName, long epoch, String dye, AccessLog accessLog, int setIndex, ByteString body, long deadlineNanos,
                 int attempt, io.cellgate.limit.OverloadSignals signals, io.cellgate.limit.SetConcurrencyLimit setLimit,
                 String traceparent) {
        this.traceparent = traceparent;
        this.signals = signals;
        this.setLimit = setLimit;
        this.ownDeadline = attempt == 1 && deadlineNanos - startNanos >= command.timeoutMillis * 1_000_000L;
        this.setIndex = setIndex;
        this.body = body;
        this.deadlineNanos = deadlineNanos;
        this.attempt = attempt;
        this.setName = setName;
        this.epoch = epoch;
        this.dye = dye;
        this.accessLog = accessLog;
        this.command = command;
        this.startNanos = startNanos;
        this.counters = counters;
        this.session = session;
        this.writer = writer;
        this.seq = seq;
        this.endpoint = endpoint;
    }

    /** Only the first attempt of an idempotent READ that could not reach its AO is retried. */
    boolean retryable() {
        // UNAVAILABLE: the AO could not be reached; CANCELLED (not by us: a cancelled call's client is
        // gone and is never retried): the AO reset the stream, e.g. while shutting down.
        Status.Code code = status.getCode();
        return attempt == 1 && (code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED) && command.spec.idempotent()
                && command.spec.route() == io.cellgate.route.RouteClass.READ;
    }

    /** A WRITE or CENTER call: counted apart, a city switch waits for these. */
    private boolean write() {
        return command.spec.route() != io.cellgate.route.RouteClass.READ;
    }

    /**
     * Starts the call on its endpoint's channel for event loop {@code loopIndex}: the lean client's
     * when the endpoint has one, else gRPC's. {@code headers} by {@link UpstreamHeader} ordinal.
     */
    void start(int loopIndex, Command command, long timeoutNanos, String[] headers, ByteString request) {
        endpoint.outstanding.incrementAndGet();
        if (write()) {
            endpoint.writesOutstanding.incrementAndGet();
        }
        counters.inFlight.increment();
        callStartNanos = System.nanoTime();
        if (setLimit != null) {
            // Counted while in flight by when it will have used half its command's time (the command's,
            // never a client's shorter deadline: a client cannot make a set look stalled): a set that stops
            // answering is cut before its calls miss their deadlines.
            stallAtNanos = setLimit.started(callStartNanos, callStartNanos + command.timeoutMillis * 1_000_000L);
        }
        LeanChannel lean = endpoint.leanChannel(loopIndex);
        if (lean != null) {
            leanCall = lean.start(this, command.path, timeoutNanos, headers, request);
            return;
        }
        call = endpoint.channel(loopIndex).newCall(command.method, CallOptions.DEFAULT.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS));
        call.start(this, UpstreamHeader.metadata(headers));
        call.request(1);
        call.sendMessage(request);
        call.halfClose();
    }

    void cancel(String reason) {
        if (leanCall != null) {
            leanCall.cancel(reason);
        } else {
            call.cancel(reason, null);
        }
    }

    @Override
    public void onMessage(ByteString message) {
        responseBody = message;
    }

    @Override
    public void onClose(Status closeStatus, Metadata trailers) {
        status = closeStatus;
        callEndNanos = System.nanoTime();
        try {
            Status.Code code = closeStatus.getCode();
            boolean blamesAo = code == Status.Code.DEADLINE_EXCEEDED && deadlineBlamesAo(callEndNanos);
            if (setLimit != null) {
                // RESOURCE_EXHAUSTED is the AO saying it is full; a missed deadline of the gateway's own is
                // the AO too slow for its load: both are pushback, which shrinks the set's limit. A call's
                // latency is the set's only while the gateway's own loops are on time: measured while they
                // lag, it holds the gateway's delay (a saturated host, a pause), which no set limit cures.
                setLimit.release(command.spec.priority(), callEndNanos - callStartNanos,
                        code == Status.Code.OK && !signals.eventLoopsLagging(), code == Status.Code.RESOURCE_EXHAUSTED || blamesAo,
                        callEndNanos, stallAtNanos);
            }
            if (code == Status.Code.FAILED_PRECONDITION && trailers.containsKey(io.cellgate.fence.FenceHeaders.FENCED)) {
                fenced = true;
                counters.fencedWrites.increment();
            }
            endpoint.record(code, blamesAo);
            endpoint.outstanding.decrementAndGet();
            if (write()) {
                endpoint.writesOutstanding.decrementAndGet();
            }
            counters.inFlight.decrement();
        } finally {
            // Whatever the accounting did, the client gets its answer.
            writer.completed(this);
        }
    }

    /**
     * Whether a {@code DEADLINE_EXCEEDED} of this call counts against its AO: only for a deadline the
     * gateway chose, and only when the gateway's own event loops were on time (no recent lag over the
     * limit, and this close not run late).
     */
    private boolean deadlineBlamesAo(long closedAtNanos) {
        if (!ownDeadline) {
            return false;
        }
        long limit = signals.limits().eventLoopLagNanos();
        return !signals.eventLoopsLagging() && (limit <= 0 || closedAtNanos - deadlineNanos < limit);
    }

    /** The response for the client, counted and timed. Called once, on the client's event loop. */
    ServerFrame toFrame() {
        ServerFrame frame = frame();
        Code code = frame.getResponse().getCode();
        command.count(code);
        long nanos = System.nanoTime() - startNanos;
        command.latency.record(session.loopIndex, nanos);
        command.gatewayTime.record(session.loopIndex, nanos - (callEndNanos - callStartNanos));
        if (accessLog != null && accessLog.sampled(dye)) {
            accessLog.record(session.sessionId(), session.uid, seq, command.spec.cmd(), code.name(), setName, epoch, nanos / 1000, dye,
                    TraceParent.traceId(traceparent), session.channel.remoteAddress(), body.size(),
                    responseBody == null ? 0 : responseBody.size(), endpoint.address, status == null ? "NONE" : status.getCode().name());
        }
        return frame;
    }

    private ServerFrame frame() {
        if (status.isOk()) {
            return responseBody != null ? Frames.ok(seq, responseBody)
                    : Frames.response(seq, Code.UPSTREAM_ERROR, "AO " + endpoint + " closed the call without a response");
        }
        if (fenced) {
            // This gateway's routes are older than a city switch the AO has been told of: the write must
            // not land here, and the client should retry (through a gateway with current routes).
            return Frames.response(seq, Code.WRITE_FORBIDDEN, "AO " + endpoint + " refused a write dispatched under route epoch "
                    + epoch + ": the routes predate a city switch; retry later");
        }
        return Frames.response(seq, codeOf(status), "AO " + endpoint + ": " + status.getCode()
                + (status.getDescription() == null ? "" : ": " + status.getDescription()));
    }

    static Code codeOf(Status status) {
        switch (status.getCode()) {
            case OK:
                return Code.OK;
            case UNAVAILABLE:
            case CANCELLED:
                return Code.UPSTREAM_UNAVAILABLE;
            case DEADLINE_EXCEEDED:
                return Code.UPSTREAM_TIMEOUT;
            default:
                return Code.UPSTREAM_ERROR;
        }
    }
}
