package io.cellgate.server;

import io.cellgate.protocol.admin.v1.CityStatusReply;
import io.cellgate.protocol.admin.v1.CitySwitchReply;
import io.cellgate.route.CitySwitch;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteConflictException;
import io.cellgate.route.RouteDiff;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteTable;
import io.cellgate.server.fleet.FleetMembership;
import io.cellgate.server.internal.FenceNotice;
import io.cellgate.server.internal.GatewayContext;
import io.grpc.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Drives a city switch (see {@link CitySwitch}) as a resumable state machine whose phase lives in the
 * route table, so the route store (the file, or etcd for a fleet) keeps it across restarts and every
 * gateway sharing the table can report, resume or abort it.
 *
 * <ol>
 *   <li>Forbid: one batch forbids writes of the old city and records the switch FORBIDDING at that
 *       epoch (the city's fence); the old city's AOs are told the fence at once.</li>
 *   <li>Wait, polling, never sleeping on a thread: every live gateway (the fleet's membership, read
 *       from etcd; this gateway alone without a fleet) must have applied the forbid epoch and report
 *       no write in flight to the old city, and the settle time must have passed. Route changes in
 *       between (health, another operator) do not matter.</li>
 *   <li>Move: the plan is made on the table as it is then, and one batch moves the write points,
 *       allows writes again and records the switch DONE with its undo.</li>
 * </ol>
 *
 * <p>A wait that outlasts its limit fails the request but not the switch: it stays FORBIDDING (writes
 * of the old city refused, nothing lost) until {@code city resume} or {@code city abort}. A rollback
 * is a switch back whose plan is the undo of the last one, kept only where those write points still
 * are in the city the switch moved them to; it is applied on top of later changes.
 *
 * <p>Runs on the gateway's control thread: the table is read and changed there, one step at a time.
 */
final class CitySwitchProcedure {
    private static final Logger LOG = Logger.getLogger(CitySwitchProcedure.class.getName());
    /** How often a waiting switch looks at the fleet again. */
    private static final long POLL_MILLIS = 25;
    /** Changes that lose a race with another writer are planned again this many times. */
    private static final int ATTEMPTS = 10;

    private final RouteEngine routes;
    private final GatewayContext context;
    private final FleetMembership membership;
    private final ScheduledExecutorService control;

    CitySwitchProcedure(RouteEngine routes, GatewayContext context, FleetMembership membership, ScheduledExecutorService control) {
        this.routes = routes;
        this.context = context;
        this.membership = membership;
        this.control = control;
    }

    /** How long to wait: the least time writes stay forbidden, and the longest wait for the fleet. */
    record Timing(long settleMillis, long waitMillis) {
        static Timing of(long settleMillis, long waitMillis) {
            return new Timing(settleMillis > 0 ? settleMillis : 1_000, waitMillis > 0 ? waitMillis : 30_000);
        }
    }

    /** Starts a switch from {@code from} to {@code to}; the future completes when it is DONE, or fails. Control thread. */
    CompletableFuture<CitySwitchReply> start(String from, String to, Timing timing) {
        for (int attempt = 1; ; attempt++) {
            RouteTable before = routes.current();
            requireNoneUnderWay(before);
            CitySwitchPlan.changes(before, from, to); // refuses an unknown city or one without an UP set, before anything changes
            CitySwitch record = new CitySwitch(from, to, CitySwitch.Phase.FORBIDDING, 0, System.currentTimeMillis(), false,
                    List.of(), List.of());
            try {
                RouteTable forbidden = routes.apply(before.epoch(),
                        List.of(new RouteChange.ForbidCity(from, true), new RouteChange.RecordCitySwitch(record)));
                return begin(before, forbidden, timing);
            } catch (RouteConflictException e) {
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** Starts a switch back of the last one that was DONE. Control thread. */
    CompletableFuture<CitySwitchReply> rollback(Timing timing) {
        for (int attempt = 1; ; attempt++) {
            RouteTable before = routes.current();
            requireNoneUnderWay(before);
            CitySwitch last = before.citySwitch();
            if (last == null || last.phase() != CitySwitch.Phase.DONE || last.rollback()) {
                throw Status.FAILED_PRECONDITION.withDescription("no city switch to roll back"
                        + (last == null ? "" : last.rollback() ? " (the last one, " + last.describe() + ", is a rollback; "
                        + "to move the write points again: gatewayctl city switch)" : " (the last one, " + last.describe()
                        + ", is " + last.phase() + ")") + (last == null ? " (expected: gatewayctl city switch first)" : ""))
                        .asRuntimeException();
            }
            List<RouteChange> plan = CitySwitch.stillIn(before, last.to(), last.undo());
            if (plan.isEmpty()) {
                throw Status.FAILED_PRECONDITION.withDescription("nothing to roll back: no write point the switch " + last.from()
                        + " -> " + last.to() + " moved is still in " + last.to()).asRuntimeException();
            }
            CitySwitch record = new CitySwitch(last.to(), last.from(), CitySwitch.Phase.FORBIDDING, 0, System.currentTimeMillis(), true,
                    plan, List.of());
            try {
                RouteTable forbidden = routes.apply(before.epoch(),
                        List.of(new RouteChange.ForbidCity(last.to(), true), new RouteChange.RecordCitySwitch(record)));
                return begin(before, forbidden, timing);
            } catch (RouteConflictException e) {
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** Finishes the switch left FORBIDDING in the routes (its gateway stopped, or its wait ran out). Control thread. */
    CompletableFuture<CitySwitchReply> resume(Timing timing) {
        RouteTable now = routes.current();
        CitySwitch record = now.citySwitch();
        if (record == null || record.phase() != CitySwitch.Phase.FORBIDDING) {
            throw Status.FAILED_PRECONDITION.withDescription("no city switch to resume"
                    + (record == null ? "" : " (the last one, " + record.describe() + ", is " + record.phase() + ")")).asRuntimeException();
        }
        LOG.info(() -> "city switch " + record.describe() + ": resumed");
        return begin(now, now, timing);
    }

    /** Stops the switch left FORBIDDING: writes of its old city allowed again, no write point moved. Control thread. */
    CityStatusReply abort() {
        for (int attempt = 1; ; attempt++) {
            RouteTable now = routes.current();
            CitySwitch record = now.citySwitch();
            if (record == null || record.phase() != CitySwitch.Phase.FORBIDDING) {
                throw Status.FAILED_PRECONDITION.withDescription("no city switch to abort"
                        + (record == null ? "" : " (the last one, " + record.describe() + ", is " + record.phase() + ")")).asRuntimeException();
            }
            try {
                RouteTable after = routes.apply(now.epoch(), List.of(new RouteChange.ForbidCity(record.from(), false),
                        new RouteChange.RecordCitySwitch(record.advance(CitySwitch.Phase.ABORTED, List.of()))));
                LOG.warning(() -> "city switch " + record.describe() + ": aborted at epoch " + after.epoch() + "; no write point moved");
                return status();
            } catch (RouteConflictException e) {
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** The switch recorded in the routes and, while it forbids, the gateways it waits for. */
    CityStatusReply status() {
        RouteTable now = routes.current();
        CitySwitch record = now.citySwitch();
        CityStatusReply.Builder reply = CityStatusReply.newBuilder().setRouteEpoch(now.epoch());
        if (record == null) {
            return reply.setRecorded(false).build();
        }
        reply.setRecorded(true).setFrom(record.from()).setTo(record.to()).setPhase(record.phase().name())
                .setForbidEpoch(record.forbidEpoch()).setStartedAtMs(record.startedAtMillis()).setRollback(record.rollback());
        if (record.phase() == CitySwitch.Phase.FORBIDDING) {
            reply.addAllWaitingFor(notReady(record));
        }
        return reply.build();
    }

    /** Tells the old city's AOs the fence, then waits for the fleet and moves. */
    private CompletableFuture<CitySwitchReply> begin(RouteTable before, RouteTable forbidden, Timing timing) {
        CitySwitch record = forbidden.citySwitch();
        LOG.info(() -> "city switch " + record.describe() + ": waiting for the fleet");
        FenceNotice.Outcome fenced;
        try {
            // Every AO of the old city learns the fence now, not at the next health tick: from here on it
            // refuses writes of any gateway that has not seen the forbid (cut off from the store, say).
            fenced = context.tellFence(record.from(), Math.min(1_000, Math.max(100, timing.settleMillis() / 2)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
        if (fenced.told() < fenced.endpoints()) {
            LOG.warning(() -> "city switch " + record.describe() + ": " + fenced.told() + " of " + fenced.endpoints()
                    + " AO endpoints acknowledged fence " + record.forbidEpoch()
                    + " (the others learn it from health checks; an AO without the fence module cannot refuse stale writes)");
        }
        CompletableFuture<CitySwitchReply> done = new CompletableFuture<>();
        Waiting waiting = new Waiting(before, record, timing, fenced, System.nanoTime(), done, new ArrayList<>());
        control.execute(() -> poll(waiting));
        return done;
    }

    private record Waiting(RouteTable before, CitySwitch record, Timing timing, FenceNotice.Outcome fenced, long sinceNanos,
                           CompletableFuture<CitySwitchReply> done, List<String> lastWaitingFor) {
        long elapsedMillis() {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
        }
    }

    private void poll(Waiting w) {
        try {
            CitySwitch now = routes.current().citySwitch();
            if (now == null || now.forbidEpoch() != w.record().forbidEpoch()) {
                w.done().completeExceptionally(Status.ABORTED.withDescription("city switch " + w.record().describe()
                        + ": replaced in the routes by " + (now == null ? "nothing" : now.describe())).asRuntimeException());
                return;
            }
            if (now.phase() == CitySwitch.Phase.DONE) {
                // Another gateway resumed and finished it.
                w.done().complete(reply(w, routes.current(), 0));
                return;
            }
            if (now.phase() == CitySwitch.Phase.ABORTED) {
                w.done().completeExceptionally(Status.ABORTED.withDescription("city switch " + w.record().describe()
                        + ": aborted by an operator; no write point moved").asRuntimeException());
                return;
            }
            List<String> waitingFor = notReady(now);
            long elapsed = w.elapsedMillis();
            if (!waitingFor.equals(w.lastWaitingFor()) || elapsed < POLL_MILLIS) {
                // Said when it changes, not every poll: who holds the switch up, and when that ends.
                LOG.info(() -> "city switch " + now.describe() + ": after " + elapsed + " ms, "
                        + (waitingFor.isEmpty() ? "every live gateway is ready" : "waiting for " + String.join("; ", waitingFor)));
                w.lastWaitingFor().clear();
                w.lastWaitingFor().addAll(waitingFor);
            }
            if (waitingFor.isEmpty() && elapsed >= w.timing().settleMillis()) {
                w.done().complete(move(w));
                return;
            }
            if (elapsed >= w.timing().waitMillis()) {
                String why = waitingFor.isEmpty() ? "the settle time" : String.join("; ", waitingFor);
                LOG.warning(() -> "city switch " + now.describe() + ": still waiting after " + elapsed + " ms for " + why);
                w.done().completeExceptionally(Status.FAILED_PRECONDITION.withDescription("city switch " + now.describe()
                        + ": not finished after " + elapsed + " ms, waiting for " + why + "; writes of " + now.from()
                        + " stay forbidden (gatewayctl city status | resume | abort)").asRuntimeException());
                return;
            }
            control.schedule(() -> poll(w), POLL_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            w.done().completeExceptionally(e);
        }
    }

    /**
     * The live gateways not yet ready for {@code record}'s move, each with why: not at its forbid epoch
     * yet, or writes in flight to its old city. This gateway is judged from its own state.
     */
    private List<String> notReady(CitySwitch record) {
        List<String> waiting = new ArrayList<>();
        RouteTable mine = routes.current();
        long mineInFlight = context.writesInFlightToCity(record.from());
        if (mine.epoch() < record.forbidEpoch()) {
            waiting.add("this gateway: at epoch " + mine.epoch());
        } else if (mineInFlight > 0) {
            waiting.add("this gateway: " + mineInFlight + " writes in flight to " + record.from());
        }
        if (membership == null) {
            return waiting;
        }
        List<FleetMembership.Member> members;
        try {
            members = membership.readMembers();
        } catch (IOException e) {
            waiting.add("the fleet's membership (etcd: " + e.getMessage() + ")");
            return waiting;
        }
        for (FleetMembership.Member m : members) {
            if (m.address().equals(membership.address())) {
                continue;
            }
            if (m.epoch() < record.forbidEpoch()) {
                waiting.add(m.address() + ": at epoch " + m.epoch());
            } else if (m.fencedWrites() > 0) {
                waiting.add(m.address() + ": " + m.fencedWrites() + " writes in flight to " + record.from());
            }
        }
        return waiting;
    }

    /** Phase 2: the plan made on the table as it is now, moved and allowed in one batch. */
    private CitySwitchReply move(Waiting w) {
        for (int attempt = 1; ; attempt++) {
            RouteTable now = routes.current();
            CitySwitch record = now.citySwitch();
            if (record.phase() == CitySwitch.Phase.DONE && record.forbidEpoch() == w.record().forbidEpoch()) {
                return reply(w, now, 0);
            }
            List<RouteChange> moves = record.rollback() ? CitySwitch.stillIn(now, record.from(), record.plan())
                    : CitySwitchPlan.changes(now, record.from(), record.to());
            List<RouteChange> batch = new ArrayList<>(moves);
            batch.add(new RouteChange.ForbidCity(record.from(), false));
            batch.add(new RouteChange.RecordCitySwitch(record.advance(CitySwitch.Phase.DONE, CitySwitch.undoOf(now, moves))));
            try {
                RouteTable done = routes.apply(now.epoch(), batch);
                int slots = slotsMoved(moves);
                LOG.info(() -> "city switch " + record.describe() + ": done at epoch " + done.epoch() + " (" + slots
                        + " slots moved, writes forbidden for " + w.elapsedMillis() + " ms)");
                return reply(w, done, slots);
            } catch (RouteConflictException e) {
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private CitySwitchReply reply(Waiting w, RouteTable done, int slots) {
        return CitySwitchReply.newBuilder().setForbidEpoch(w.record().forbidEpoch()).setSwitchedEpoch(done.epoch())
                .setFinalEpoch(done.epoch()).setPreviousEpoch(w.before().epoch()).setSlotsMoved(slots)
                .setFencedEndpoints(w.fenced().told()).setOldCityEndpoints(w.fenced().endpoints())
                .setGateways(membership == null ? 1 : Math.max(1, membership.members().size()))
                .setForbiddenMs(w.elapsedMillis()).setRollback(w.record().rollback())
                .addAllDiff(RouteDiff.between(w.before(), done)).build();
    }

    static int slotsMoved(List<RouteChange> moves) {
        int n = 0;
        for (RouteChange c : moves) {
            if (c instanceof RouteChange.MoveSlots m) {
                n += m.toSlot() - m.fromSlot() + 1;
            }
        }
        return n;
    }

    private static void requireNoneUnderWay(RouteTable t) {
        CitySwitch under = t.citySwitch();
        if (under != null && under.phase() == CitySwitch.Phase.FORBIDDING) {
            throw Status.FAILED_PRECONDITION.withDescription("a city switch is under way: " + under.describe()
                    + " (expected: gatewayctl city status, then city resume or city abort)").asRuntimeException();
        }
    }
}
