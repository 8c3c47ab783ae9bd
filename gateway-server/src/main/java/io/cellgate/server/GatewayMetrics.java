package io.cellgate.server;

import io.cellgate.limit.Admission;
import io.cellgate.limit.PriorityAdmission;
import io.cellgate.protocol.v1.Code;
import io.cellgate.route.RouteTable;
import io.cellgate.server.config.CommandSpec;
import io.cellgate.server.internal.CommandTable;
import io.cellgate.server.internal.GatewayContext;
import io.cellgate.server.internal.GatewayCounters;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.DoubleSupplier;

/**
 * The gateway's Prometheus metrics. The hot path only bumps striped counters and a per-command
 * histogram; everything here is read at scrape time through callbacks, on the scraper's thread.
 * Label values are bounded: command words from the command table, codes, decisions, results.
 */
final class GatewayMetrics {
    private GatewayMetrics() {
    }

    static void register(PrometheusRegistry registry, GatewayContext context, GatewayServer gateway) {
        if (gateway.fleet() != null) {
            gauge(registry, "cellgate_fleet_store_stale", "1 while etcd does not answer (last-known-good routes and endpoints in use)",
                    () -> gateway.fleet().stale() ? 1 : 0);
            gauge(registry, "cellgate_fleet_store_age_seconds", "Seconds since etcd last answered",
                    () -> gateway.fleet().ageMillis() / 1000.0);
            gauge(registry, "cellgate_fleet_members", "Gateways registered in the fleet, this one included",
                    () -> gateway.fleetMembership().members().size());
        }
        if (gateway.discovery() != null) {
            gauge(registry, "cellgate_discovery_stale", "1 while the discovery source cannot be read (last known endpoints in use)",
                    () -> gateway.discovery().stale() ? 1 : 0);
            gauge(registry, "cellgate_discovery_age_seconds", "Age of the endpoints in use since they were last confirmed",
                    () -> gateway.discovery().ageMillis() / 1000.0);
        }
        if (gateway.health() != null) {
            io.cellgate.server.internal.SetHealthTracker health = gateway.health();
            GaugeWithCallback.builder().name("cellgate_set_health_down")
                    .help("1 while this gateway's health checks hold a set DOWN (its own view: the stored routes have it UP)")
                    .labelNames("set")
                    .callback(cb -> {
                        java.util.Set<String> down = health.down();
                        context.routeTable().sets().forEach(s -> cb.call(down.contains(s.name()) ? 1 : 0, s.name()));
                    }).register(registry);
            GaugeWithCallback.builder().name("cellgate_set_health_held_up")
                    .help("1 while a set fails its health checks but is kept UP: the last UP set of its city, or its city's"
                            + " share of health-DOWN sets reached (an operator decides)")
                    .labelNames("set")
                    .callback(cb -> {
                        java.util.Set<String> held = health.heldUp();
                        context.routeTable().sets().forEach(s -> cb.call(held.contains(s.name()) ? 1 : 0, s.name()));
                    }).register(registry);
            counter(registry, "cellgate_set_health_changes", "Sets taken DOWN or brought back UP by this gateway's health checks",
                    health::changes);
        }
        GaugeWithCallback.builder().name("cellgate_set_concurrency_limit")
                .help("Each set's adaptive limit on calls in flight (upstream.set-limit), learned from its latency")
                .labelNames("set")
                .callback(cb -> context.setLimits().forEach((set, limit) -> cb.call(limit.limit(), set))).register(registry);
        CounterWithCallback.builder().name("cellgate_set_limit_refused")
                .help("Requests refused SHED_OVERLOAD because their set was at its concurrency limit")
                .labelNames("set")
                .callback(cb -> context.setLimits().forEach((set, limit) -> cb.call(limit.refused(), set))).register(registry);
        CounterWithCallback.builder().name("cellgate_set_limit_stalls")
                .help("Times a set's concurrency limit was cut because the set stalled: calls waited half their time while it answered few")
                .labelNames("set")
                .callback(cb -> context.setLimits().forEach((set, limit) -> cb.call(limit.stalls(), set))).register(registry);
        GatewayCounters counters = context.counters();
        registry.register(context.requestDuration());
        registry.register(context.gatewayDuration());
        counter(registry, "cellgate_frames_received", "Client frames decoded", counters::framesIn);
        counter(registry, "cellgate_retries", "Idempotent calls retried on another set", counters::retries);
        counter(registry, "cellgate_retries_refused", "Retryable calls answered with their failure: retry budget spent, no other set,"
                + " no time left or that set at its limit", counters::retriesRefused);
        counter(registry, "cellgate_reads_spilled", "Reads their set's concurrency limit had no room for, served by the next"
                + " nearest set of the same city", counters::readsSpilled);
        counter(registry, "cellgate_event_loop_handoffs", "Tasks given to the gateway's event loops by other threads: a response"
                + " or a call crossing loops, a timer set from another thread (none per request in channel-mode per-event-loop or lean)",
                gateway::eventLoopHandoffs);
        counter(registry, "cellgate_buffer_leaks", "Buffer leaks reported by Netty's leak detector",
                io.cellgate.server.internal.LeakReports::count);
        GaugeWithCallback.builder().name("cellgate_set_requests_in_flight").help("Calls in flight to each set's AO endpoints")
                .labelNames("set")
                .callback(cb -> context.inFlightBySet().forEach((set, n) -> cb.call(n, set))).register(registry);
        GaugeWithCallback.builder().name("cellgate_set_state").help("1 for each set's current state (UP, DRAINING, DOWN)")
                .labelNames("set", "state")
                .callback(cb -> {
                    RouteTable t = context.routeTable();
                    for (io.cellgate.route.CellSet s : t.sets()) {
                        for (io.cellgate.route.SetState state : io.cellgate.route.SetState.values()) {
                            cb.call(s.state() == state ? 1 : 0, s.name(), state.name());
                        }
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("cellgate_endpoint_ejected").help("1 when an AO endpoint is ejected by outlier detection")
                .labelNames("endpoint")
                .callback(cb -> context.endpointsEjected().forEach((endpoint, ejected) -> cb.call(ejected ? 1 : 0, endpoint)))
                .register(registry);
        CounterWithCallback.builder().name("cellgate_endpoint_ejections").help("Ejections of each AO endpoint by outlier detection")
                .labelNames("endpoint")
                .callback(cb -> context.endpointEjections().forEach((endpoint, n) -> cb.call(n, endpoint)))
                .register(registry);
        gauge(registry, "cellgate_netty_direct_memory_bytes", "Direct memory held by Netty's buffers (all allocators)",
                io.cellgate.server.internal.DirectMemory::used);
        gauge(registry, "cellgate_netty_heap_memory_bytes", "Heap memory held by the client connections' buffer allocator",
                () -> io.cellgate.server.internal.BufferAllocators.clients() instanceof io.netty.buffer.ByteBufAllocatorMetricProvider p
                        ? p.metric().usedHeapMemory() : 0);

        CounterWithCallback.builder().name("cellgate_requests")
                .help("Responses to client requests by command word and result code")
                .labelNames("cmd", "code")
                .callback(cb -> {
                    CommandTable table = context.commandTable();
                    for (CommandSpec spec : table.specs()) {
                        String cmd = Integer.toUnsignedString(spec.cmd());
                        for (Code code : Code.values()) {
                            if (code != Code.UNRECOGNIZED) {
                                long n = table.responses(spec.cmd(), code);
                                if (n > 0) {
                                    cb.call(n, cmd, code.name());
                                }
                            }
                        }
                    }
                    cb.call(counters.unknownCommands(), "unknown", Code.UNKNOWN_COMMAND.name());
                    cb.call(counters.requestsBeforeLogin(), "unknown", Code.UNAUTHENTICATED.name());
                }).register(registry);
        CounterWithCallback.builder().name("cellgate_admission_decisions")
                .help("Admission decisions by command word and decision")
                .labelNames("cmd", "decision")
                .callback(cb -> {
                    CommandTable table = context.commandTable();
                    for (CommandSpec spec : table.specs()) {
                        for (Admission decision : Admission.values()) {
                            cb.call(table.decisions(spec.cmd(), decision), Integer.toUnsignedString(spec.cmd()),
                                    decision.name().toLowerCase(java.util.Locale.ROOT));
                        }
                    }
                }).register(registry);
        CounterWithCallback.builder().name("cellgate_logins")
                .help("Login attempts by result")
                .labelNames("result")
                .callback(cb -> {
                    cb.call(counters.loginsOk(), "ok");
                    cb.call(counters.loginsFailed(), "refused_token");
                    cb.call(counters.loginsRefused(), "rate_limited");
                }).register(registry);
        counter(registry, "cellgate_connections_accepted", "Client connections accepted", counters::connectionsAccepted);
        counter(registry, "cellgate_connections_refused", "Client connections refused by the accept rate", counters::acceptsRefused);
        counter(registry, "cellgate_accept_errors", "Accepts that failed on the client listener (e.g. out of file descriptors)",
                counters::acceptErrors);
        counter(registry, "cellgate_connections_address_limited",
                "Client connections refused because their address held admission.max-connections-per-address", counters::addressLimited);
        counter(registry, "cellgate_slow_readers_closed",
                "Client connections closed for leaving more than limits.max-outbound-bytes-per-connection unread",
                counters::slowReadersClosed);
        counter(registry, "cellgate_connections_close_forced", "Connections closed after their last frame because the peer did not take "
                + "it within limits.close-timeout", counters::closesForced);
        counter(registry, "cellgate_pre_login_closed", "Connections closed for sending more than limits.pre-login-frames frames "
                + "before logging in", counters::preLoginClosed);
        counter(registry, "cellgate_dyes_refused", "Logins and requests refused for a malformed dye", counters::dyesRefused);
        counter(registry, "cellgate_sessions_revoked", "Sessions closed because their user was revoked", counters::sessionsRevoked);
        counter(registry, "cellgate_logins_revoked", "Logins refused because the user is revoked", counters::loginsRevoked);
        counter(registry, "cellgate_sessions_expired", "Sessions sent go_away UNAUTHENTICATED because their login token expired",
                counters::sessionsExpired);
        counter(registry, "cellgate_dyes_ignored", "Client dyes ignored because no dye rule lets the client choose its dye",
                counters::dyesIgnored);
        counter(registry, "cellgate_login_fields_refused", "Logins refused for a malformed device, device id or app version",
                counters::loginFieldsRefused);
        counter(registry, "cellgate_sessions_replaced", "Connections sent go_away SESSION_REPLACED because a newer login of their user "
                + "took their place (same device, or past sessions.max-per-user)", counters::sessionsReplaced);
        counter(registry, "cellgate_logins_over_session_limit", "Logins refused TOO_MANY_SESSIONS: the user held sessions.max-per-user "
                + "connections (when-full: reject-new)", counters::loginsOverSessionLimit);
        CounterWithCallback.builder().name("cellgate_push")
                .help("Pushes from services by result, per connection (not_connected: per user)")
                .labelNames("result")
                .callback(cb -> counters.pushes().forEach((result, n) -> cb.call(n, result)))
                .register(registry);
        counter(registry, "cellgate_push_acks_unknown", "PushAck frames for no push waiting on the connection (unknown, late or repeated)",
                counters::pushAcksUnknown);
        GaugeWithCallback.builder().name("cellgate_build_info").help("1, labelled with the version of this gatewayd build")
                .labelNames("version").callback(cb -> cb.call(1, io.cellgate.protocol.Version.get())).register(registry);
        gauge(registry, "cellgate_connected_users", "Users with at least one logged-in connection", context::connectedUsers);
        gauge(registry, "cellgate_push_topics", "Topics held for pushes", () -> context.topics().size());
        counter(registry, "cellgate_fenced_writes", "Writes an AO's fence refused because this gateway's routes predated a city switch",
                counters::fencedWrites);
        counter(registry, "cellgate_cross_city_requests", "Requests sent to a set in another city than the gateway's", counters::crossCityRequests);
        counter(registry, "cellgate_bad_frames", "Connections closed for a protocol violation (BAD_FRAME)", counters::badFrames);

        counter(registry, "cellgate_access_log_written", "Access log lines written",
                () -> context.accessLog() == null ? 0 : context.accessLog().written());
        counter(registry, "cellgate_access_log_dropped", "Access log lines dropped because the ring was full",
                () -> context.accessLog() == null ? 0 : context.accessLog().dropped());
        gauge(registry, "cellgate_client_connections", "Client connections open", context::clientConnections);
        gauge(registry, "cellgate_requests_in_flight", "Requests in flight to AOs", counters::inFlight);
        gauge(registry, "cellgate_route_epoch", "Epoch of the route table in use", () -> context.routeTable().epoch());
        gauge(registry, "cellgate_route_snapshot_age_seconds", "Age of the route table in use", () -> {
            RouteTable t = context.routeTable();
            return (System.currentTimeMillis() - t.createdAtMillis()) / 1000.0;
        });
        gauge(registry, "cellgate_load_level", "Admission load level (1.0 = at the overload watermark)", context::loadLevel);
        gauge(registry, "cellgate_event_loop_lag_seconds", "Average event-loop lag over the last admission window",
                () -> context.signals().eventLoopLagNanos() / 1e9);
        gauge(registry, "cellgate_pending_outbound_bytes",
                "Bytes queued to clients (summed each admission window while requests are in flight or pushes are sent, else every tenth)",
                () -> context.signals().pendingOutboundBytes());
        gauge(registry, "cellgate_priority_admitted_fraction", "Fraction of admission levels admitted (1 = no shedding)",
                () -> (double) context.priorityThreshold() / PriorityAdmission.LEVELS);
    }

    private static void counter(PrometheusRegistry registry, String name, String help, DoubleSupplier value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }

    private static void gauge(PrometheusRegistry registry, String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }
}
