package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.limit.Admission;
import io.cellgate.protocol.v1.ClientFrame;
import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.LoginAck;
import io.cellgate.protocol.v1.Request;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.route.RouteTable;
import io.netty.channel.Channel;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The dispatch of a logged-in client's frames: for each request, look up the command, admit it,
 * resolve its set, pick an AO endpoint and start the gRPC call. Refusals are answered at once with
 * their code; responses of calls arrive through the session's {@link ResponseWriter}. Writes made
 * while reading are flushed once per read batch.
 *
 * <p>One per gateway, shared by every connection: what is a connection's own is its
 * {@link ClientSession}. The connection's frame step ({@link ClientFrameSource}) calls it with each
 * frame once the client logged in, rather than passing frames to a pipeline step of its own: a step
 * costs every idle connection a handler context and a handler (about 110 bytes of its 1.5 KB). So that
 * the frame step encodes what it says, it writes through the channel (from the pipeline's end), not
 * through the frame step's context.
 */
final class Dispatcher {
    /** {@code x-cellgate-route-class} values by {@link io.cellgate.route.RouteClass} ordinal. */
    private static final String[] ROUTE_CLASS_VALUES = java.util.Arrays.stream(io.cellgate.route.RouteClass.values())
            .map(c -> c.name().toLowerCase(java.util.Locale.ROOT)).toArray(String[]::new);

    private final GatewayContext context;

    Dispatcher(GatewayContext context) {
        this.context = context;
    }

    /**
     * A drain of connection {@code ch} ({@link Drain}, fired through its pipeline): before a login,
     * the go_away and a close; after it, the go_away, and the close once nothing is in flight.
     */
    void drain(Channel ch, ClientSession session, Drain drain) {
        ServerFrame goAway = Frames.goAway(drain.code(), drain.reason(), drain.reconnectAfterMillis(), drain.alternates(context));
        if (session == null) {
            LastWord.sayAndClose(ch, goAway);
            return;
        }
        if (session.draining()) {
            return;
        }
        session.drain = drain;
        ch.writeAndFlush(goAway, ch.voidPromise());
        // Requests already on the wire still get an answer; then close once nothing is in flight.
        ch.eventLoop().schedule(() -> {
            session.graceOver = true;
            session.closeIfDrained();
        }, Drain.GRACE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** A frame of logged-in {@code session}, on its loop. The frame step checked its kind is one it knows. */
    void read(ClientSession session, ClientFrame frame) {
        switch (frame.getKindCase()) {
            case PING:
                pong(session, frame);
                break;
            case REQUEST:
                dispatch(session, frame.getRequest());
                break;
            case LOGIN:
                // Counts against the connection's rate like any frame; over it, not even answered.
                if (session.tryRequest(context.admissions().connectionRate(), session.batchNanos())) {
                    write(session, ServerFrame.newBuilder().setLoginAck(LoginAck.newBuilder().setCode(Code.INVALID_REQUEST)
                            .setSessionId(session.sessionId()).setMessage("already logged in")).build());
                }
                break;
            case PUSH_ACK:
                if (!session.acknowledged(frame.getPushAck().getPushId())) {
                    context.counters.pushAcksUnknown.increment();
                }
                break;
            default:
                // A kind the frame step does not pass on (KIND_NOT_SET closes the connection there).
                break;
        }
    }

    /** What the dispatch says is written from the pipeline's end, through the frame step that encodes it; flushed with the read batch. */
    private static void write(ClientSession session, ServerFrame frame) {
        session.channel.write(frame, session.channel.voidPromise());
    }

    /**
     * Answers a ping with a pong (flushed with the read batch). Silence is {@link IdleSweep}'s. A
     * logged-in connection's pings count against its rate like requests, and a ping over it gets no
     * pong; before the login the login step answers them and bounds them ({@code limits.pre-login-frames}).
     */
    private void pong(ClientSession session, ClientFrame frame) {
        if (session.tryRequest(context.admissions().connectionRate(), session.batchNanos())) {
            write(session, Frames.pong(frame.getPing().getNonce()));
        }
    }

    private void dispatch(ClientSession session, Request request) {
        long seq = request.getSeq();
        Command command = context.commands().get(request.getCmd());
        long now = session.batchNanos();
        String requestDye = session.dye;
        // Every request counts against the connection's rate, unknown commands and bad dyes included.
        if (!session.tryRequest(context.admissions().connectionRate(), now)) {
            if (command != null) {
                command.count(Admission.OVER_CONNECTION_LIMIT);
            }
            reply(session, request, requestDye, command, seq, Code.CONNECTION_RATE_LIMITED, "this connection is over its request rate");
            return;
        }
        if (request.hasDye()) {
            String problem = ClientFields.dyeProblem(request.getDye().getTag());
            if (problem != null) {
                // Refused before it is kept, logged or forwarded anywhere.
                context.counters.dyesRefused.increment();
                reply(session, request, requestDye, command, seq, Code.INVALID_REQUEST, problem);
                return;
            }
            if (session.dyeRule != null && session.dyeRule.clientDye()) {
                requestDye = request.getDye().getTag();
            } else if (!request.getDye().getTag().isEmpty()) {
                // Only a dye rule lets a client choose its dye; otherwise the connection's dye stands.
                context.counters.dyesIgnored.increment();
            }
        }
        if (command == null) {
            context.counters.unknownCommands.increment();
            reply(session, request, requestDye, null, seq, Code.UNKNOWN_COMMAND, "cmd " + Integer.toUnsignedString(request.getCmd()) + " is not in the command table");
            return;
        }
        if (session.draining()) {
            reply(session, request, requestDye, command, seq, session.drain.code(), session.drain.requestMessage());
            return;
        }
        if (session.inFlightCount() >= context.config.maxInFlight()) {
            command.count(Admission.OVER_CONNECTION_LIMIT);
            reply(session, request, requestDye, command, seq, Code.TOO_MANY_IN_FLIGHT, "connection has " + context.config.maxInFlight() + " requests in flight");
            return;
        }
        if (session.inFlightBytes() + request.getBody().size() > context.config.maxInFlightBytes()) {
            // Bounds what one client can put on the upstream connections it shares with everyone on its loop.
            command.count(Admission.OVER_CONNECTION_LIMIT);
            reply(session, request, requestDye, command, seq, Code.TOO_MANY_IN_FLIGHT, "connection has " + session.inFlightBytes()
                    + " request bytes in flight (limit " + context.config.maxInFlightBytes() + ")");
            return;
        }
        if (session.isInFlight(seq)) {
            reply(session, request, requestDye, command, seq, Code.INVALID_REQUEST, "seq " + Long.toUnsignedString(seq) + " is already in flight");
            return;
        }
        if (command.limiter != null && !command.limiter.tryAcquire(now)) {
            command.count(Admission.RATE_LIMITED);
            reply(session, request, requestDye, command, seq, Code.RATE_LIMITED, "cmd " + command.spec.cmd() + " is over its rate limit");
            return;
        }
        Admissions admissions = context.admissions();
        if (!admissions.userAllowed(session.uid, command.groupKey, now)) {
            command.count(Admission.RATE_LIMITED);
            reply(session, request, requestDye, command, seq, Code.RATE_LIMITED, "this user is over its rate limit for command group " + command.spec.group());
            return;
        }
        Admission decision = admissions.control.admit(command.spec.priority(), session.uid, ThreadLocalRandom.current().nextDouble());
        command.count(decision);
        if (decision != Admission.ADMIT) {
            if (decision == Admission.SHED_PRIORITY) {
                reply(session, request, requestDye, command, seq, Code.SHED_OVERLOAD, "overloaded: " + command.spec.priority() + " requests are being refused");
            } else {
                reply(session, request, requestDye, command, seq, Code.DROPPED_OVERLOAD, "overloaded: dropped at random");
            }
            return;
        }
        RoutingSnapshot routing = context.upstreams.current();
        RouteTable table = routing.table;
        int set = table.resolve(session.uid, command.spec.route(), command.spec.failover());
        if (session.dyeRule != null) {
            set = dyedSet(session, table, command.spec.route(), set);
        }
        if (set < 0) {
            if (set == RouteTable.WRITE_FORBIDDEN) {
                reply(session, request, requestDye, command, seq, Code.WRITE_FORBIDDEN, "writes are forbidden for this user now; retry later");
            } else {
                reply(session, request, requestDye, command, seq, Code.NO_ROUTE, "no set can serve cmd " + command.spec.cmd() + " for this user");
            }
            return;
        }
        if (command.spec.route() == io.cellgate.route.RouteClass.READ
                && (routing.allEjected(set, command.service) || routing.slowStartSkips(set, now))) {
            // Every endpoint of the nearest set is ejected (its AO died, say, before health judged the set):
            // a read goes to the next set at once rather than failing there and spending a retry. And a set
            // just back UP by health gets its reads gradually (upstream.health.slow-start).
            int other = table.resolveReadExcluding(session.uid, set);
            if (other >= 0) {
                set = other;
            }
        }
        AoEndpoint endpoint = routing.pick(set, command.service);
        if (endpoint == null) {
            reply(session, request, requestDye, command, seq, Code.UPSTREAM_UNAVAILABLE, "set " + table.set(set).name() + " has no endpoint of " + command.service);
            return;
        }
        io.cellgate.limit.SetConcurrencyLimit setLimit = routing.limit(set);
        int held = session.inFlightCount();
        if (setLimit != null && !setLimit.tryAcquire(command.spec.priority(), held)) {
            io.cellgate.limit.SetConcurrencyLimit refused = setLimit;
            String refusedName = table.set(set).name();
            // A read its set has no room for goes to the next nearest set of the same city when that one has
            // room (never to another city: a request crosses cities at most once, and only for a failure).
            int other = command.spec.route() == io.cellgate.route.RouteClass.READ && command.spec.idempotent()
                    ? table.resolveReadExcluding(session.uid, set) : -1;
            AoEndpoint otherEndpoint = other < 0 || !table.set(other).city().equals(table.set(set).city()) ? null
                    : routing.pick(other, command.service);
            io.cellgate.limit.SetConcurrencyLimit otherLimit = otherEndpoint == null ? null : routing.limit(other);
            if (otherEndpoint == null || (otherLimit != null && !otherLimit.tryAcquire(command.spec.priority(), held))) {
                // The set has as many calls in flight as its latency says it can serve: the lower priorities
                // wait outside it (SHED_OVERLOAD, retry later) instead of queueing inside it; connections holding
                // many calls go first, so one client cannot fill a set for everyone.
                reply(session, request, requestDye, command, seq, Code.SHED_OVERLOAD, "set " + refusedName + " is at its concurrency limit (" + refused.limit()
                        + "): " + command.spec.priority() + " requests are being refused" + (held >= refused.perConnection()
                        ? ", first from connections with " + refused.perConnection() + " or more in flight (this one has " + held + ")"
                        : ""));
                return;
            }
            context.counters.readsSpilled.increment();
            set = other;
            endpoint = otherEndpoint;
            setLimit = otherLimit;
        }
        long timeoutMillis = command.timeoutMillis;
        if (request.getTimeoutMs() > 0 && request.getTimeoutMs() < timeoutMillis) {
            // A client may ask for less than the command's timeout, but not for less than the floor: a
            // deadline shorter than any AO can answer in only turns work into timeouts.
            timeoutMillis = Math.min(timeoutMillis, Math.max(request.getTimeoutMs(), context.config.minTimeout().toMillis()));
        }
        context.retryBudget.onRequest(now);
        startCall(session, command, seq, routing, set, endpoint, setLimit, request.getBody(), requestDye, now, now + timeoutMillis * 1_000_000L, 1,
                TraceParent.forward(request.getTraceparent(), !requestDye.isEmpty()));
    }

    /**
     * Where the connection's dye rule sends a request that would go to {@code set}: dyed reads to the
     * rule's read set, dyed writes to its write set (the canary holds these users' data), each while
     * that set is UP; a write obeys the target's forbidden city. Otherwise {@code set} as it was.
     */
    private static int dyedSet(ClientSession session, RouteTable table, io.cellgate.route.RouteClass route, int set) {
        io.cellgate.server.config.DyeRule rule = session.dyeRule;
        String name = route == io.cellgate.route.RouteClass.READ ? rule.readSet()
                : route == io.cellgate.route.RouteClass.WRITE && set != RouteTable.WRITE_FORBIDDEN ? rule.writeSet() : null;
        if (name == null) {
            return set;
        }
        int target = table.indexOf(name);
        if (target < 0 || table.set(target).state() != io.cellgate.route.SetState.UP) {
            return set;
        }
        if (route == io.cellgate.route.RouteClass.WRITE && table.isWriteForbidden(target)) {
            return RouteTable.WRITE_FORBIDDEN;
        }
        return target;
    }

    /** Starts the gRPC call of request {@code seq} on {@code endpoint} of set {@code set}; it is in flight after this. */
    private void startCall(ClientSession session, Command command, long seq, RoutingSnapshot routing, int set, AoEndpoint endpoint,
                           io.cellgate.limit.SetConcurrencyLimit setLimit, ByteString body, String dye,
                           long startNanos, long deadlineNanos, int attempt, String traceparent) {
        RouteTable table = routing.table;
        String[] headers = UpstreamHeader.newValues();
        headers[UpstreamHeader.UID.ordinal()] = Long.toUnsignedString(session.uid);
        headers[UpstreamHeader.CMD.ordinal()] = command.cmdText;
        if (!dye.isEmpty()) {
            headers[UpstreamHeader.DYE.ordinal()] = dye;
        }
        headers[UpstreamHeader.TRACE_ID.ordinal()] = session.sessionId() + '-' + Long.toUnsignedString(seq);
        headers[UpstreamHeader.TRACEPARENT.ordinal()] = traceparent;
        if (!session.device.isEmpty()) {
            headers[UpstreamHeader.DEVICE.ordinal()] = session.device;
        }
        if (!session.deviceId.isEmpty()) {
            headers[UpstreamHeader.DEVICE_ID.ordinal()] = session.deviceId;
        }
        if (!session.appVersion.isEmpty()) {
            headers[UpstreamHeader.APP_VERSION.ordinal()] = session.appVersion;
        }
        headers[UpstreamHeader.ROUTE_EPOCH.ordinal()] = routing.epochText;
        headers[UpstreamHeader.ROUTE_CLASS.ordinal()] = ROUTE_CLASS_VALUES[command.spec.route().ordinal()];
        // Tells the AO its city's fence (null: none), so it refuses writes from any gateway whose routes predate it.
        headers[UpstreamHeader.FENCE_EPOCH.ordinal()] = routing.fenceText(set);
        headers[UpstreamHeader.SET.ordinal()] = table.set(set).name();
        if (table.crossesCity(set)) {
            context.counters.crossCity.increment();
        }
        UpstreamCall call = new UpstreamCall(session, context.responseWriter(session.loopIndex), seq, endpoint, context.counters, command, startNanos,
                table.set(set).name(), table.epoch(), dye, context.accessLog, set, body, deadlineNanos, attempt, context.signals,
                setLimit, traceparent);
        session.startCall(seq, call);
        long timeoutNanos = Math.max(1, deadlineNanos - System.nanoTime());
        call.start(session.loopIndex, command, timeoutNanos, headers, body);
    }

    /**
     * Retries a failed idempotent call once, on another set, within its original deadline and the
     * retry budget. Called on this connection's event loop after the failed call left the calls in
     * flight; true when a new call now carries the request.
     */
    boolean retry(UpstreamCall failed) {
        ClientSession session = failed.session();
        assert session.channel.eventLoop().inEventLoop();
        long remaining = failed.deadlineNanos - System.nanoTime();
        if (remaining < 1_000_000L || session.draining() || !session.channel.isActive()) {
            return false;
        }
        RoutingSnapshot routing = context.upstreams.current();
        RouteTable table = routing.table;
        int set = table.resolveReadExcluding(session.uid, failed.setIndex);
        if (set < 0 || !context.retryBudget.tryRetry()) {
            return false;
        }
        AoEndpoint endpoint = routing.pick(set, failed.command.service);
        if (endpoint == null) {
            return false;
        }
        io.cellgate.limit.SetConcurrencyLimit setLimit = routing.limit(set);
        if (setLimit != null && !setLimit.tryAcquire(failed.command.spec.priority(), session.inFlightCount())) {
            return false;
        }
        context.counters.retries.increment();
        startCall(session, failed.command, failed.seq, routing, set, endpoint, setLimit, failed.body, failed.dye, failed.startNanos,
                failed.deadlineNanos, failed.attempt + 1, failed.traceparent);
        return true;
    }

    /** Refuses request {@code seq} with {@code code}; {@code dye} is the request's (the access log samples by it). */
    private void reply(ClientSession session, Request request, String dye, Command command, long seq, Code code, String message) {
        if (command != null) {
            command.count(code);
        }
        AccessLog log = context.accessLog;
        if (log != null && log.sampled(dye)) {
            String trace = request.getTraceparent();
            log.record(session.sessionId(), session.uid, seq, request.getCmd(), code.name(), null, 0, 0, dye,
                    TraceParent.valid(trace) ? trace.substring(3, 35) : null, session.channel.remoteAddress(), request.getBody().size(), 0,
                    null, null);
        }
        write(session, Frames.response(seq, code, message));
    }

    /**
     * The end of a read batch of connection {@code ch} ({@code session} null before the login): one
     * flush for what the batch wrote, the login step's answers included; then the slow-reader bound.
     */
    void readComplete(Channel ch, ClientSession session) {
        if (session != null) {
            session.endBatch();
        }
        ch.flush();
        SlowReaders.closeIfOverLimit(context, ch);
    }

    /** Connection {@code ch}'s writability changed: its reading pauses while it is unwritable. */
    void writabilityChanged(Channel ch) {
        SlowReaders.pauseWhileUnwritable(context, ch);
    }

    /** The connection of {@code session} closed: its calls are cancelled, its acks abandoned, its user told. */
    void closed(ClientSession session) {
        session.cancelAll("client connection closed");
        session.abandonAcks();
        context.userSessions.unregister(session);
    }
}
