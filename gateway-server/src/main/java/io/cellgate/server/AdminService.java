package io.cellgate.server;

import io.cellgate.limit.Priority;
import io.cellgate.protocol.admin.v1.AdminGrpc;
import io.cellgate.protocol.admin.v1.ApplyRoutesReply;
import io.cellgate.protocol.admin.v1.ApplyRoutesRequest;
import io.cellgate.protocol.admin.v1.CityAbortRequest;
import io.cellgate.protocol.admin.v1.CityResumeRequest;
import io.cellgate.protocol.admin.v1.CityRollbackRequest;
import io.cellgate.protocol.admin.v1.CityStatusReply;
import io.cellgate.protocol.admin.v1.CityStatusRequest;
import io.cellgate.protocol.admin.v1.CitySwitchReply;
import io.cellgate.protocol.admin.v1.CitySwitchRequest;
import io.cellgate.protocol.admin.v1.CommandInfo;
import io.cellgate.protocol.admin.v1.ConnectionInfo;
import io.cellgate.protocol.admin.v1.DrainReply;
import io.cellgate.protocol.admin.v1.DrainRequest;
import io.cellgate.protocol.admin.v1.Endpoints;
import io.cellgate.protocol.admin.v1.GetLimitsRequest;
import io.cellgate.protocol.admin.v1.GetRoutesRequest;
import io.cellgate.protocol.admin.v1.KickConnectionReply;
import io.cellgate.protocol.admin.v1.KickConnectionRequest;
import io.cellgate.protocol.admin.v1.Limits;
import io.cellgate.protocol.admin.v1.ListCommandsReply;
import io.cellgate.protocol.admin.v1.ListCommandsRequest;
import io.cellgate.protocol.admin.v1.ListConnectionsReply;
import io.cellgate.protocol.admin.v1.ListConnectionsRequest;
import io.cellgate.protocol.admin.v1.LocateReply;
import io.cellgate.protocol.admin.v1.LocateRequest;
import io.cellgate.protocol.admin.v1.Override;
import io.cellgate.protocol.admin.v1.ReloadReply;
import io.cellgate.protocol.admin.v1.ReloadRequest;
import io.cellgate.protocol.admin.v1.ReplaceRoutesRequest;
import io.cellgate.protocol.admin.v1.RouteChangeMsg;
import io.cellgate.protocol.admin.v1.Routes;
import io.cellgate.protocol.admin.v1.SetCommandRequest;
import io.cellgate.protocol.admin.v1.SetDegradeRequest;
import io.cellgate.protocol.admin.v1.SetInfo;
import io.cellgate.protocol.admin.v1.SetLimitsRequest;
import io.cellgate.protocol.admin.v1.SharedAdmission;
import io.cellgate.protocol.admin.v1.SharedSettings;
import io.cellgate.protocol.admin.v1.SlotRange;
import io.cellgate.protocol.admin.v1.StatusReply;
import io.cellgate.protocol.admin.v1.StatusRequest;
import io.cellgate.route.CellSet;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteClass;
import io.cellgate.route.RouteConflictException;
import io.cellgate.route.RouteDiff;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.cellgate.route.SlotHash;
import io.cellgate.server.config.AdmissionConfig;
import io.cellgate.server.config.CommandSpec;
import io.cellgate.server.config.ConfigException;
import io.cellgate.server.internal.GatewayContext;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

/**
 * The admin API. Calls arrive on the admin server's own executor, never on an event loop; every
 * change runs on the gateway's control thread, one at a time (no change is lost to another), and a
 * city switch answers when it completes, holding no thread while it waits for the fleet. Route
 * changes are answered with their epoch; errors are gRPC statuses whose description says what is
 * wrong and what was expected.
 */
final class AdminService extends AdminGrpc.AdminImplBase {
    private static final Logger LOG = Logger.getLogger(AdminService.class.getName());

    private final GatewayServer gateway;
    private final long startedAtMillis = System.currentTimeMillis();

    AdminService(GatewayServer gateway) {
        this.gateway = gateway;
    }

    private GatewayContext context() {
        return gateway.context();
    }

    /** Runs {@code call} and maps the gateway's exceptions to statuses. */
    private static <T> void answer(StreamObserver<T> observer, Callable<T> call) {
        T reply;
        try {
            reply = call.call();
        } catch (Exception e) {
            observer.onError(statusOf(e));
            return;
        }
        observer.onNext(reply);
        observer.onCompleted();
    }

    /** Like {@link #answer}, on the gateway's control thread: changes to its settings apply one at a time. */
    private <T> void change(StreamObserver<T> observer, Callable<T> call) {
        answer(observer, () -> gateway.onControl(call));
    }

    /** Answers when {@code reply} completes (a city switch waits for the fleet without holding a thread). */
    private static <T> void answerLater(StreamObserver<T> observer, CompletableFuture<T> reply) {
        reply.whenComplete((r, e) -> {
            if (e != null) {
                observer.onError(statusOf(e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e));
            } else {
                observer.onNext(r);
                observer.onCompleted();
            }
        });
    }

    private static StatusRuntimeException statusOf(Throwable e) {
        if (e instanceof StatusRuntimeException s) {
            return s;
        }
        if (e instanceof RouteConflictException) {
            return Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof ConfigException || e instanceof IllegalArgumentException) {
            return Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
        if (e instanceof UncheckedIOException) {
            // The gateway answered; its route store did not (a disk, or etcd): the operation failed, the API is up.
            return Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
        }
        return Status.INTERNAL.withDescription(String.valueOf(e)).asRuntimeException();
    }

    @java.lang.Override
    public void status(StatusRequest request, StreamObserver<StatusReply> observer) {
        answer(observer, this::status);
    }

    private StatusReply status() {
        GatewayContext c = context();
        RouteTable t = c.routeTable();
        Priority degrade = c.degradeLevel();
        StatusReply.Builder reply = StatusReply.newBuilder();
        if (gateway.fleet() != null) {
            reply.setStore("etcd").setStoreStale(gateway.fleet().stale()).setStoreAgeMs(gateway.fleet().ageMillis())
                    .setSettingsEpoch(gateway.sharedSettings().getEpoch());
            for (io.cellgate.server.fleet.FleetMembership.Member m : gateway.fleetMembership().members()) {
                reply.addFleet(io.cellgate.protocol.admin.v1.FleetMember.newBuilder().setAddress(m.address()).setCity(m.city())
                        .setIdc(m.idc()).setState(m.state()).setLoadLevel(m.load()).setClientConnections(m.connections())
                        .setRouteEpoch(m.epoch()).setSelf(m.self()));
            }
        } else {
            reply.setStore("file");
        }
        return reply
                .setCity(t.localCity()).setIdc(t.localIdc())
                .setUptimeMs(System.currentTimeMillis() - startedAtMillis)
                .setRouteEpoch(t.epoch()).setRouteSnapshotAgeMs(System.currentTimeMillis() - t.createdAtMillis())
                .setClientConnections(c.clientConnections()).setRequestsInFlight(c.counters().inFlight())
                .setLoadLevel(c.loadLevel()).setDegrade(degrade == null ? "none" : degrade.name())
                .setReady(gateway.ready()).setVersion(io.cellgate.protocol.Version.get())
                .setSets(t.sets().size()).setCommands(c.commandTable().size())
                .build();
    }

    @java.lang.Override
    public void getRoutes(GetRoutesRequest request, StreamObserver<Routes> observer) {
        answer(observer, () -> {
            Routes routes = toMessage(gateway.routes().current(), !request.getWithoutUsers());
            if (gateway.health() == null) {
                return routes;
            }
            // The stored routes, with this gateway's own health view of each set beside them.
            java.util.Set<String> down = gateway.health().down();
            java.util.Set<String> held = gateway.health().heldUp();
            Routes.Builder b = routes.toBuilder();
            for (SetInfo.Builder set : b.getSetsBuilderList()) {
                set.setHealth(down.contains(set.getName()) ? "DOWN" : held.contains(set.getName()) ? "HELD_UP" : "OK");
            }
            return b.build();
        });
    }

    static Routes toMessage(RouteTable t) {
        return toMessage(t, true);
    }

    static Routes toMessage(RouteTable t, boolean withUsers) {
        Routes.Builder b = Routes.newBuilder().setEpoch(t.epoch()).setSlotCount(t.slotCount())
                .setOverrideCount(t.overrideCount()).setRevocationCount(t.revocationCount());
        if (t.centerSetName() != null) {
            b.setCenterSet(t.centerSetName());
        }
        int[] slotsPerSet = new int[t.sets().size()];
        for (int slot = 0; slot < t.slotCount(); ) {
            int set = t.setOfSlot(slot);
            int end = slot;
            while (end + 1 < t.slotCount() && t.setOfSlot(end + 1) == set) {
                end++;
            }
            slotsPerSet[set] += end - slot + 1;
            b.addWritePoints(SlotRange.newBuilder().setFrom(slot).setTo(end).setSet(t.set(set).name()));
            slot = end + 1;
        }
        for (int i = 0; i < t.sets().size(); i++) {
            CellSet s = t.set(i);
            SetInfo.Builder info = SetInfo.newBuilder().setName(s.name()).setCity(s.city()).setIdc(s.idc())
                    .setState(s.state().name()).setWeight(s.weight()).addAllEndpoints(s.endpoints()).setSlots(slotsPerSet[i]);
            s.serviceEndpoints().forEach((service, eps) -> info.putServiceEndpoints(service, Endpoints.newBuilder().addAllEndpoints(eps).build()));
            b.addSets(info);
        }
        if (withUsers) {
            t.forEachOverride((uid, set) -> b.addOverrides(Override.newBuilder().setUid(uid).setSet(t.set(set).name())));
        }
        for (int slot = 0; slot < t.slotCount(); ) {
            if (!t.isSlotWriteForbidden(slot)) {
                slot++;
                continue;
            }
            int end = slot;
            while (end + 1 < t.slotCount() && t.isSlotWriteForbidden(end + 1)) {
                end++;
            }
            b.addForbiddenSlots(SlotRange.newBuilder().setFrom(slot).setTo(end));
            slot = end + 1;
        }
        b.addAllForbiddenCities(t.forbiddenCities());
        if (withUsers) {
            java.util.TreeMap<Long, Long> revoked = new java.util.TreeMap<>(Long::compareUnsigned);
            t.forEachRevocation(revoked::put);
            revoked.forEach((uid, until) -> b.addRevocations(io.cellgate.protocol.admin.v1.RevokeUserChange.newBuilder().setUid(uid)
                    .setUntilEpochSeconds(until)));
        }
        return b.build();
    }

    static RouteTable fromMessage(Routes r, RouteTable current) {
        RouteTable.Builder b = RouteTable.builder(current.locality(), r.getSlotCount() > 0 ? r.getSlotCount() : current.slotCount());
        for (SetInfo s : r.getSetsList()) {
            java.util.Map<String, List<String>> services = new java.util.TreeMap<>();
            s.getServiceEndpointsMap().forEach((k, v) -> services.put(k, v.getEndpointsList()));
            b.addSet(new CellSet(s.getName(), s.getCity(), s.getIdc(), state(s.getState().isEmpty() ? "UP" : s.getState()),
                    s.getWeight() > 0 ? s.getWeight() : 1, s.getEndpointsList(), services));
        }
        for (SlotRange wp : r.getWritePointsList()) {
            b.apply(new RouteChange.MoveSlots(wp.getFrom(), wp.getTo(), wp.getSet()));
        }
        for (Override o : r.getOverridesList()) {
            b.apply(new RouteChange.SetOverride(o.getUid(), o.getSet()));
        }
        for (SlotRange f : r.getForbiddenSlotsList()) {
            b.apply(new RouteChange.ForbidSlots(f.getFrom(), f.getTo(), true));
        }
        for (String city : r.getForbiddenCitiesList()) {
            b.apply(new RouteChange.ForbidCity(city, true));
        }
        for (io.cellgate.protocol.admin.v1.RevokeUserChange revoked : r.getRevocationsList()) {
            b.apply(new RouteChange.RevokeUser(revoked.getUid(), revoked.getUntilEpochSeconds()));
        }
        b.centerSet(r.getCenterSet().isEmpty() ? null : r.getCenterSet());
        return b.build(r.getEpoch());
    }

    private static SetState state(String s) {
        try {
            return SetState.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("state: " + s + " (expected: UP, DRAINING or DOWN)");
        }
    }

    static RouteChange toChange(RouteChangeMsg m) {
        switch (m.getChangeCase()) {
            case MOVE_SLOTS:
                return new RouteChange.MoveSlots(m.getMoveSlots().getFrom(), m.getMoveSlots().getTo(), m.getMoveSlots().getSet());
            case SET_OVERRIDE:
                return new RouteChange.SetOverride(m.getSetOverride().getUid(), m.getSetOverride().getSet());
            case CLEAR_OVERRIDE:
                return new RouteChange.ClearOverride(m.getClearOverride());
            case FORBID_SLOTS:
                return new RouteChange.ForbidSlots(m.getForbidSlots().getFrom(), m.getForbidSlots().getTo(), true);
            case ALLOW_SLOTS:
                return new RouteChange.ForbidSlots(m.getAllowSlots().getFrom(), m.getAllowSlots().getTo(), false);
            case FORBID_CITY:
                return new RouteChange.ForbidCity(m.getForbidCity(), true);
            case ALLOW_CITY:
                return new RouteChange.ForbidCity(m.getAllowCity(), false);
            case SET_STATE:
                return new RouteChange.SetSetState(m.getSetState().getSet(), state(m.getSetState().getState()));
            case SET_ENDPOINTS:
                return m.getSetEndpoints().getService().isEmpty()
                        ? new RouteChange.SetEndpoints(m.getSetEndpoints().getSet(), m.getSetEndpoints().getEndpointsList())
                        : new RouteChange.SetServiceEndpoints(m.getSetEndpoints().getSet(), m.getSetEndpoints().getService(),
                                m.getSetEndpoints().getEndpointsList());
            case REVOKE_USER:
                return new RouteChange.RevokeUser(m.getRevokeUser().getUid(), m.getRevokeUser().getUntilEpochSeconds());
            default:
                throw new IllegalArgumentException("change: empty (expected: one of move_slots, set_override, ...)");
        }
    }

    @java.lang.Override
    public void applyRoutes(ApplyRoutesRequest request, StreamObserver<ApplyRoutesReply> observer) {
        change(observer, () -> {
            List<RouteChange> changes = new ArrayList<>();
            for (RouteChangeMsg m : request.getChangesList()) {
                changes.add(toChange(m));
            }
            if (changes.isEmpty()) {
                throw new IllegalArgumentException("changes: none (expected: at least one change)");
            }
            RouteTable before = gateway.routes().current();
            if (request.getDryRun()) {
                if (request.getExpectedEpoch() != 0 && request.getExpectedEpoch() != before.epoch()) {
                    throw new RouteConflictException(request.getExpectedEpoch(), before.epoch());
                }
                RouteTable preview = gateway.routes().preview(changes);
                return ApplyRoutesReply.newBuilder().setEpoch(before.epoch()).setDryRun(true)
                        .addAllDiff(RouteDiff.between(before, preview)).build();
            }
            RouteTable after = gateway.routes().apply(request.getExpectedEpoch(), changes);
            if (gateway.health() != null) {
                // The operator's word wins over this gateway's health verdict; health judges the set anew.
                for (RouteChange change : changes) {
                    if (change instanceof RouteChange.SetSetState c && c.state() == io.cellgate.route.SetState.UP) {
                        gateway.health().forget(c.set());
                    }
                }
            }
            List<String> diff = RouteDiff.between(before, after);
            // A batch may move thousands of users: the log names the first few, the reply all.
            LOG.info(() -> "admin: routes epoch " + after.epoch() + ": " + (diff.size() <= 20 ? diff
                    : diff.subList(0, 20) + " and " + (diff.size() - 20) + " more"));
            return ApplyRoutesReply.newBuilder().setEpoch(after.epoch()).addAllDiff(diff).build();
        });
    }

    @java.lang.Override
    public void replaceRoutes(ReplaceRoutesRequest request, StreamObserver<ApplyRoutesReply> observer) {
        change(observer, () -> {
            RouteTable before = gateway.routes().current();
            RouteTable next = fromMessage(request.getRoutes(), before);
            if (request.getDryRun()) {
                return ApplyRoutesReply.newBuilder().setEpoch(before.epoch()).setDryRun(true)
                        .addAllDiff(RouteDiff.between(before, next)).build();
            }
            RouteTable after = gateway.routes().replace(request.getExpectedEpoch(), next);
            LOG.info(() -> "admin: routes replaced, epoch " + after.epoch());
            return ApplyRoutesReply.newBuilder().setEpoch(after.epoch()).addAllDiff(RouteDiff.between(before, after)).build();
        });
    }

    @java.lang.Override
    public void locate(LocateRequest request, StreamObserver<LocateReply> observer) {
        answer(observer, () -> {
            RouteTable t = gateway.routes().current();
            long uid = request.getUid();
            int slot = SlotHash.slotOf(uid, t.slotCount());
            int writePoint = t.writePointOf(uid);
            int read = t.resolve(uid, RouteClass.READ, io.cellgate.route.WriteFailover.FAIL);
            LocateReply.Builder reply = LocateReply.newBuilder().setUid(uid).setSlot(slot).setEpoch(t.epoch())
                    .setWritePoint(t.set(writePoint).name()).setOverride(t.overrideOf(uid) >= 0)
                    .setReadSet(read >= 0 ? t.set(read).name() : "");
            if (request.getCmd() == 0) {
                return reply.setReason("write point of slot " + slot + (t.overrideOf(uid) >= 0 ? " (per-user override)" : "")
                        + "; reads go to the nearest UP set").build();
            }
            CommandSpec spec = context().commandTable().specs().stream().filter(s -> s.cmd() == request.getCmd()).findFirst()
                    .orElseThrow(() -> Status.NOT_FOUND.withDescription("cmd: " + Integer.toUnsignedString(request.getCmd())
                            + " (expected: a command of the command table; see gatewayctl cmds list)").asRuntimeException());
            int target = t.resolve(uid, spec.route(), spec.failover());
            reply.setRouteClass(spec.route().name());
            if (target == RouteTable.WRITE_FORBIDDEN) {
                return reply.setCode("WRITE_FORBIDDEN").setReason("writes of slot " + slot + " or of its city are forbidden now").build();
            }
            if (target == RouteTable.NO_ROUTE) {
                return reply.setCode("NO_ROUTE").setReason("no UP set can serve " + spec.route() + " for this user").build();
            }
            String why = switch (spec.route()) {
                case WRITE -> target == writePoint ? "WRITE: the user's write point" : "WRITE: write point " + t.set(writePoint).name()
                        + " is DOWN, failover " + spec.failover() + " chose a peer in its city";
                case READ -> "READ: the nearest UP set (" + t.locality().readPreference() + ") from " + t.localCity() + "/" + t.localIdc();
                case CENTER -> "CENTER: the center set";
            };
            return reply.setCode("OK").setTargetSet(t.set(target).name()).setReason(why).build();
        });
    }

    @java.lang.Override
    public void listCommands(ListCommandsRequest request, StreamObserver<ListCommandsReply> observer) {
        answer(observer, this::commands);
    }

    private ListCommandsReply commands() {
        ListCommandsReply.Builder b = ListCommandsReply.newBuilder();
        for (CommandSpec s : context().commandTable().specs()) {
            b.addCommands(SharedSettingsCodec.info(s).toBuilder().setEffectiveRate(context().commandTable().effectiveRate(s.cmd())));
        }
        return b.build();
    }

    @java.lang.Override
    public void setCommand(SetCommandRequest request, StreamObserver<ListCommandsReply> observer) {
        change(observer, () -> {
            if (request.getTimeoutMs() < 0 || request.getRate() < 0 || request.getBurst() < 0 || request.getFleetRate() < 0) {
                throw new IllegalArgumentException("timeout, rate, burst and fleet rate: negative (expected: >= 0; 0 = unchanged)");
            }
            Priority requested = request.getPriority().isEmpty() ? null : SharedSettingsCodec.priority(request.getPriority(), "priority");
            gateway.changeSettings("cmds set " + Integer.toUnsignedString(request.getCmd()), settings -> {
                SharedSettings.Builder next = settings.toBuilder();
                for (int i = 0; i < next.getCommandsCount(); i++) {
                    CommandInfo c = next.getCommands(i);
                    if (c.getCmd() != request.getCmd()) {
                        continue;
                    }
                    double rate = request.getUnlimited() ? 0 : request.getRate() > 0 ? request.getRate() : c.getRate();
                    double fleetRate = request.getUnlimited() ? 0 : request.getFleetRate() > 0 ? request.getFleetRate() : c.getFleetRate();
                    int burst = request.getBurst() > 0 ? request.getBurst()
                            : request.getRate() > 0 ? (int) Math.max(1, Math.ceil(rate / 10)) : c.getBurst();
                    next.setCommands(i, c.toBuilder().setPriority(requested == null ? c.getPriority() : requested.name())
                            .setTimeoutMs(request.getTimeoutMs() > 0 ? request.getTimeoutMs() : c.getTimeoutMs())
                            .setRate(rate).setBurst(burst).setFleetRate(fleetRate));
                    return next.build();
                }
                throw Status.NOT_FOUND.withDescription("cmd: " + Integer.toUnsignedString(request.getCmd())
                        + " (expected: a command of the command table; see gatewayctl cmds list)").asRuntimeException();
            });
            LOG.info(() -> "admin: cmd " + request.getCmd() + " updated");
            return commands();
        });
    }

    @java.lang.Override
    public void getLimits(GetLimitsRequest request, StreamObserver<Limits> observer) {
        answer(observer, this::limits);
    }

    private Limits limits() {
        AdmissionConfig a = context().admission();
        Priority degrade = context().degradeLevel();
        return Limits.newBuilder().setAcceptRate(a.acceptRate()).setLoginRate(a.loginRate())
                .setConnectionRate(a.connectionRate()).setUserRate(a.userRate()).setMaxInFlight(a.maxInFlight())
                .setMaxInFlightPerConnection(gateway.config().maxInFlight())
                .setDegrade(degrade == null ? "none" : degrade.name()).build();
    }

    @java.lang.Override
    public void setLimits(SetLimitsRequest r, StreamObserver<Limits> observer) {
        change(observer, () -> {
            gateway.changeSettings("limits set", settings -> {
                SharedAdmission a = settings.getAdmission();
                double accept = r.getAcceptRate() >= 0 ? r.getAcceptRate() : a.getAcceptRate();
                double login = r.getLoginRate() >= 0 ? r.getLoginRate() : a.getLoginRate();
                double connection = r.getConnectionRate() >= 0 ? r.getConnectionRate() : a.getConnectionRate();
                double user = r.getUserRate() >= 0 ? r.getUserRate() : a.getUserRate();
                return settings.toBuilder().setAdmission(a.toBuilder()
                        .setAcceptRate(accept).setAcceptBurst(burst(accept, a.getAcceptRate(), a.getAcceptBurst(), 5))
                        .setLoginRate(login).setLoginBurst(burst(login, a.getLoginRate(), a.getLoginBurst(), 5))
                        .setConnectionRate(connection).setConnectionBurst(burst(connection, a.getConnectionRate(), a.getConnectionBurst(), 1))
                        .setUserRate(user).setUserBurst(burst(user, a.getUserRate(), a.getUserBurst(), 0.5))
                        .setMaxInFlight(r.getMaxInFlight() >= 0 ? r.getMaxInFlight() : a.getMaxInFlight())).build();
            });
            LOG.info(() -> "admin: limits updated");
            return limits();
        });
    }

    /** The burst for {@code rate}: unchanged when the rate is, else the config's default (rate / divisor). */
    private static int burst(double rate, double oldRate, int oldBurst, double divisor) {
        return rate == oldRate ? oldBurst : (int) Math.max(1, rate / divisor);
    }

    @java.lang.Override
    public void setDegrade(SetDegradeRequest request, StreamObserver<StatusReply> observer) {
        change(observer, () -> {
            String level = request.getLevel().trim();
            Priority p = SharedSettingsCodec.degrade(level);
            gateway.changeSettings("degrade " + SharedSettingsCodec.name(p), settings -> settings.toBuilder()
                    .setDegrade(SharedSettingsCodec.name(p)).build());
            LOG.info(() -> "admin: degrade " + SharedSettingsCodec.name(p));
            return status();
        });
    }

    @java.lang.Override
    public void getDyeRules(io.cellgate.protocol.admin.v1.GetDyeRulesRequest request,
                            StreamObserver<io.cellgate.protocol.admin.v1.DyeRules> observer) {
        answer(observer, () -> SharedSettingsCodec.dyeRules(gateway.context().dyeRules()));
    }

    @java.lang.Override
    public void setDyeRules(io.cellgate.protocol.admin.v1.SetDyeRulesRequest request,
                            StreamObserver<io.cellgate.protocol.admin.v1.DyeRules> observer) {
        change(observer, () -> {
            // Checked here first, so a rule naming an unknown set is refused before it reaches the fleet.
            SharedSettingsCodec.dyeRules(request.getRules(), gateway.context().routes());
            int count = request.getRules().getRulesCount();
            gateway.changeSettings("dye rules (" + count + ")", settings -> settings.toBuilder().setDye(request.getRules()).build());
            LOG.info(() -> "admin: dye rules set (" + count + ")");
            return SharedSettingsCodec.dyeRules(gateway.context().dyeRules());
        });
    }

    @java.lang.Override
    public void citySwitch(CitySwitchRequest request, StreamObserver<CitySwitchReply> observer) {
        if (request.getDryRun()) {
            answer(observer, () -> {
                RouteTable before = gateway.routes().current();
                List<RouteChange> mapping = CitySwitchPlan.changes(before, request.getFrom(), request.getTo());
                return CitySwitchReply.newBuilder().setDryRun(true).setPreviousEpoch(before.epoch())
                        .setSlotsMoved(CitySwitchProcedure.slotsMoved(mapping))
                        .addAllDiff(RouteDiff.between(before, gateway.routes().preview(mapping))).build();
            });
            return;
        }
        CitySwitchProcedure.Timing timing = CitySwitchProcedure.Timing.of(request.getSettleMs(), request.getWaitMs());
        answerLater(observer, onControlLater(() -> gateway.citySwitch().start(request.getFrom(), request.getTo(), timing)));
    }

    @java.lang.Override
    public void cityRollback(CityRollbackRequest request, StreamObserver<ApplyRoutesReply> observer) {
        CitySwitchProcedure.Timing timing = CitySwitchProcedure.Timing.of(request.getSettleMs(), request.getWaitMs());
        answerLater(observer, onControlLater(() -> gateway.citySwitch().rollback(timing)).thenApply(r -> ApplyRoutesReply.newBuilder()
                .setEpoch(r.getFinalEpoch())
                .addDiff("rolled back the last city switch: writes forbidden at epoch " + r.getForbidEpoch() + " for "
                        + r.getForbiddenMs() + " ms, " + r.getSlotsMoved() + " slots moved back")
                .addAllDiff(r.getDiffList()).build()));
    }

    @java.lang.Override
    public void cityResume(CityResumeRequest request, StreamObserver<CitySwitchReply> observer) {
        CitySwitchProcedure.Timing timing = CitySwitchProcedure.Timing.of(request.getSettleMs(), request.getWaitMs());
        answerLater(observer, onControlLater(() -> gateway.citySwitch().resume(timing)));
    }

    @java.lang.Override
    public void cityAbort(CityAbortRequest request, StreamObserver<CityStatusReply> observer) {
        change(observer, () -> gateway.citySwitch().abort());
    }

    @java.lang.Override
    public void cityStatus(CityStatusRequest request, StreamObserver<CityStatusReply> observer) {
        change(observer, () -> gateway.citySwitch().status());
    }

    /** Starts a city switch step on the control thread; its outcome, which no thread waits for. */
    private <T> CompletableFuture<T> onControlLater(Callable<CompletableFuture<T>> start) {
        try {
            return gateway.onControl(start);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @java.lang.Override
    public void listConnections(ListConnectionsRequest request, StreamObserver<ListConnectionsReply> observer) {
        answer(observer, () -> {
            int limit = request.getLimit() > 0 ? request.getLimit() : 100;
            java.util.List<GatewayContext.SessionInfo> sessions = request.hasUid() ? context().sessionsOf(request.getUid())
                    : context().sessions(limit);
            ListConnectionsReply.Builder b = ListConnectionsReply.newBuilder()
                    .setTotal(request.hasUid() ? sessions.size() : context().clientConnections());
            for (GatewayContext.SessionInfo s : sessions) {
                b.addConnections(ConnectionInfo.newBuilder().setSessionId(s.sessionId()).setUid(s.uid()).setRemote(s.remote())
                        .setInFlight(s.inFlight()).setDevice(s.device()).setDeviceId(s.deviceId()).setAppVersion(s.appVersion()));
            }
            return b.build();
        });
    }

    @java.lang.Override
    public void kickConnection(KickConnectionRequest request, StreamObserver<KickConnectionReply> observer) {
        answer(observer, () -> {
            if (request.hasUid()) {
                int reconnect = Math.max(0, request.getReconnectAfterMs());
                if (request.getFleet()) {
                    if (gateway.pushForwarder() == null) {
                        throw Status.FAILED_PRECONDITION.withDescription("--fleet: this gateway has no session directory "
                                + "(sessions.directory); without one it cannot know the other gateways' users").asRuntimeException();
                    }
                    io.cellgate.protocol.v1.KickReply k = PushService.kickEverywhere(context(), gateway.pushForwarder(),
                            new long[] {request.getUid()}, reconnect, "kicked by an operator", false).get(10, java.util.concurrent.TimeUnit.SECONDS);
                    return KickConnectionReply.newBuilder().setKicked(k.getConnections() > 0).setCount(k.getConnections())
                            .setGatewaysUnreachable(k.getGatewaysUnreachable()).setDirectoryUnavailable(k.getDirectoryUnavailable()).build();
                }
                int told = context().kickUser(request.getUid(), reconnect);
                return KickConnectionReply.newBuilder().setKicked(told > 0).setCount(told).build();
            }
            if (!context().kick(request.getSessionId(), Math.max(0, request.getReconnectAfterMs()))) {
                throw Status.NOT_FOUND.withDescription("session: " + request.getSessionId()
                        + " (expected: a session id of gatewayctl conns list)").asRuntimeException();
            }
            return KickConnectionReply.newBuilder().setKicked(true).setCount(1).build();
        });
    }

    @java.lang.Override
    public void reopenLogs(io.cellgate.protocol.admin.v1.ReopenLogsRequest request,
                           StreamObserver<io.cellgate.protocol.admin.v1.ReopenLogsReply> observer) {
        answer(observer, () -> io.cellgate.protocol.admin.v1.ReopenLogsReply.newBuilder().setReopened(gateway.reopenLogs()).build());
    }

    @java.lang.Override
    public void reload(ReloadRequest request, StreamObserver<ReloadReply> observer) {
        change(observer, () -> {
            ReloadOutcome o = gateway.reloadFromSource();
            return ReloadReply.newBuilder().addAllNeedsRestart(o.needsRestart()).addAllApplied(o.applied())
                    .addAllKeptByRouteStore(o.keptByRouteStore()).build();
        });
    }

    @java.lang.Override
    public void drain(DrainRequest request, StreamObserver<DrainReply> observer) {
        answer(observer, () -> DrainReply.newBuilder().setStarted(gateway.startDrain()).build());
    }
}
