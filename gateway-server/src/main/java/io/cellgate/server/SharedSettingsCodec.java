package io.cellgate.server;

import io.cellgate.limit.Priority;
import io.cellgate.protocol.admin.v1.CommandInfo;
import io.cellgate.protocol.admin.v1.DyeRuleInfo;
import io.cellgate.protocol.admin.v1.DyeRules;
import io.cellgate.protocol.admin.v1.SharedAdmission;
import io.cellgate.protocol.admin.v1.SharedSettings;
import io.cellgate.route.RouteClass;
import io.cellgate.route.WriteFailover;
import io.cellgate.server.config.AdmissionConfig;
import io.cellgate.server.config.CommandSpec;
import io.cellgate.server.config.DyeRule;
import io.cellgate.route.RouteTable;
import io.cellgate.server.internal.GatewayContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The settings a fleet shares (the command table, the admission rates, the degrade cap) as the
 * {@link SharedSettings} message, read from a gateway's running settings and applied back to them.
 * The same message is what a gateway alone changes through the admin API, so one code path makes a
 * change whether it is stored in etcd or not.
 */
final class SharedSettingsCodec {
    /**
     * The configuration keys the shared settings are made of: with a fleet, the file seeds them and a
     * reload leaves them to the store (gatewayctl changes them for the whole fleet).
     */
    static final List<String> KEYS = List.of("commands", "admission.accept-rate", "admission.accept-burst",
            "admission.login-rate", "admission.login-burst", "admission.connection-rate", "admission.connection-burst",
            "admission.user-rate", "admission.user-burst", "admission.max-in-flight", "admission.degrade", "dye");

    private SharedSettingsCodec() {
    }

    /** The running settings of {@code context} as a message of epoch 1 (what seeds an empty store). */
    static SharedSettings of(GatewayContext context) {
        AdmissionConfig a = context.admission();
        SharedSettings.Builder b = SharedSettings.newBuilder().setEpoch(1)
                .setAdmission(SharedAdmission.newBuilder()
                        .setAcceptRate(a.acceptRate()).setAcceptBurst(a.acceptBurst())
                        .setLoginRate(a.loginRate()).setLoginBurst(a.loginBurst())
                        .setConnectionRate(a.connectionRate()).setConnectionBurst(a.connectionBurst())
                        .setUserRate(a.userRate()).setUserBurst(a.userBurst())
                        .setMaxInFlight(a.maxInFlight()))
                .setDegrade(name(context.degradeLevel()))
                .setDye(dyeRules(context.dyeRules()))
                .setChange("seeded from the configuration");
        for (CommandSpec s : context.commandTable().specs()) {
            b.addCommands(info(s));
        }
        return b.build();
    }

    static CommandInfo info(CommandSpec s) {
        return CommandInfo.newBuilder().setCmd(s.cmd()).setMethod(s.method()).setRoute(s.route().name())
                .setPriority(s.priority().name()).setTimeoutMs(s.timeout().toMillis()).setRate(s.rate()).setBurst(s.burst())
                .setWriteFailover(s.failover().name()).setGroup(s.group()).setIdempotent(s.idempotent()).setFleetRate(s.fleetRate()).build();
    }

    /** Dye rules as the shared settings hold them. */
    static DyeRules dyeRules(List<DyeRule> rules) {
        DyeRules.Builder b = DyeRules.newBuilder();
        for (DyeRule r : rules) {
            DyeRuleInfo.Builder info = DyeRuleInfo.newBuilder().setTag(r.tag() == null ? "" : r.tag())
                    .addAllUids(r.uids().stream().sorted(Long::compareUnsigned).toList())
                    .addAllDevices(r.devices().stream().sorted().toList()).addAllAppVersions(r.appVersions().stream().sorted().toList())
                    .setClientDye(r.clientDye()).setReadSet(r.readSet() == null ? "" : r.readSet())
                    .setWriteSet(r.writeSet() == null ? "" : r.writeSet());
            if (r.hasRange()) {
                info.setHasUidRange(true).setUidFrom(r.uidFrom()).setUidTo(r.uidTo());
            }
            b.addRules(info);
        }
        return b.build();
    }

    /**
     * The dye rules of {@code rules}, checked as the configuration checks them and against the sets of
     * {@code routes}; IllegalArgumentException naming the rule and what is wrong.
     */
    static List<DyeRule> dyeRules(DyeRules rules, RouteTable routes) {
        List<DyeRule> list = new ArrayList<>();
        for (int i = 0; i < rules.getRulesCount(); i++) {
            DyeRuleInfo r = rules.getRules(i);
            String where = "dye rule " + (i + 1);
            if (!r.getTag().isEmpty() && !DyeRule.TAG.matcher(r.getTag()).matches()) {
                throw new IllegalArgumentException(where + ": tag " + r.getTag() + " (expected: 1-64 of [A-Za-z0-9._:-])");
            }
            if (r.getTag().isEmpty() && !r.getClientDye()) {
                throw new IllegalArgumentException(where + ": no tag and no client_dye (expected: a rule dyes or allows dyes)");
            }
            if (r.getHasUidRange() && Long.compareUnsigned(r.getUidFrom(), r.getUidTo()) > 0) {
                throw new IllegalArgumentException(where + ": uid range " + Long.toUnsignedString(r.getUidFrom()) + "-"
                        + Long.toUnsignedString(r.getUidTo()) + " (expected: FIRST <= LAST)");
            }
            for (String set : new String[] {r.getReadSet(), r.getWriteSet()}) {
                if (!set.isEmpty() && routes.indexOf(set) < 0) {
                    throw new IllegalArgumentException(where + ": set " + set + " (expected: one of " + routes.sets().stream()
                            .map(io.cellgate.route.CellSet::name).toList() + ")");
                }
            }
            list.add(new DyeRule(r.getTag().isEmpty() ? null : r.getTag(), new java.util.HashSet<>(r.getUidsList()),
                    r.getHasUidRange() ? r.getUidFrom() : -1, r.getHasUidRange() ? r.getUidTo() : 0,
                    java.util.Set.copyOf(r.getDevicesList()), java.util.Set.copyOf(r.getAppVersionsList()), r.getClientDye(),
                    r.getReadSet().isEmpty() ? null : r.getReadSet(), r.getWriteSet().isEmpty() ? null : r.getWriteSet()));
        }
        return List.copyOf(list);
    }

    /** The command table of {@code settings}; IllegalArgumentException naming the command and field that is wrong. */
    static List<CommandSpec> commands(SharedSettings settings) {
        List<CommandSpec> specs = new ArrayList<>();
        for (CommandInfo c : settings.getCommandsList()) {
            String where = "cmd " + Integer.toUnsignedString(c.getCmd());
            if (c.getTimeoutMs() <= 0 || c.getRate() < 0 || c.getBurst() < 0 || c.getFleetRate() < 0 || c.getMethod().indexOf('/') < 1) {
                throw new IllegalArgumentException(where + ": method " + c.getMethod() + ", timeout " + c.getTimeoutMs() + " ms, rate "
                        + c.getRate() + ", burst " + c.getBurst() + " (expected: package.Service/Method, a positive timeout, rate and burst >= 0)");
            }
            specs.add(new CommandSpec(c.getCmd(), c.getMethod(), parse(RouteClass.class, c.getRoute(), where + " route"),
                    priority(c.getPriority(), where + " priority"), Duration.ofMillis(c.getTimeoutMs()), c.getRate(), c.getBurst(),
                    parse(WriteFailover.class, c.getWriteFailover(), where + " write_failover"), c.getGroup(), c.getIdempotent(),
                    c.getFleetRate()));
        }
        return specs;
    }

    /** The degrade cap of {@code level} ("none" or P0..P2); IllegalArgumentException otherwise. */
    static Priority degrade(String level) {
        String l = level.trim();
        if (l.isEmpty() || l.equalsIgnoreCase("none")) {
            return null;
        }
        Priority p = priority(l, "level");
        if (p == Priority.P3) {
            throw new IllegalArgumentException("level: P3 (expected: none, P0, P1 or P2; P3 admits everything: use none)");
        }
        return p;
    }

    static String name(Priority degrade) {
        return degrade == null ? "none" : degrade.name();
    }

    static Priority priority(String value, String what) {
        try {
            return Priority.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + value + " (expected: P0, P1, P2 or P3)", e);
        }
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String value, String what) {
        try {
            return Enum.valueOf(type, value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + value + " (expected one of " + java.util.Arrays.toString(type.getEnumConstants())
                    + ")", e);
        }
    }

    /** Checks that {@code settings} can be applied; IllegalArgumentException naming what is wrong. */
    static SharedSettings validate(SharedSettings settings) {
        commands(settings);
        degrade(settings.getDegrade());
        SharedAdmission s = settings.getAdmission();
        if (s.getAcceptBurst() < 1 || s.getLoginBurst() < 1 || s.getConnectionBurst() < 1 || s.getUserBurst() < 1
                || s.getAcceptRate() < 0 || s.getLoginRate() < 0 || s.getConnectionRate() < 0 || s.getUserRate() < 0
                || s.getMaxInFlight() < 0) {
            throw new IllegalArgumentException("admission: " + s.toString().replace('\n', ' ')
                    + " (expected: rates and max_in_flight >= 0, bursts >= 1)");
        }
        return settings;
    }

    /**
     * Applies {@code settings} to {@code context}, changing only what differs: a new command table keeps
     * the commands' counters; new admission rates restart the adaptive threshold, a degrade alone does not.
     * Validates everything before it changes anything. On the control thread.
     */
    static void apply(SharedSettings settings, GatewayContext context) {
        validate(settings);
        List<DyeRule> dye = settings.hasDye() ? dyeRules(settings.getDye(), context.routes()) : null;
        List<CommandSpec> specs = commands(settings);
        Priority degrade = degrade(settings.getDegrade());
        SharedAdmission s = settings.getAdmission();
        AdmissionConfig a = context.admission();
        boolean ratesChanged = s.getAcceptRate() != a.acceptRate() || s.getAcceptBurst() != a.acceptBurst()
                || s.getLoginRate() != a.loginRate() || s.getLoginBurst() != a.loginBurst()
                || s.getConnectionRate() != a.connectionRate() || s.getConnectionBurst() != a.connectionBurst()
                || s.getUserRate() != a.userRate() || s.getUserBurst() != a.userBurst() || s.getMaxInFlight() != a.maxInFlight();
        if (!specs.equals(context.commandTable().specs())) {
            context.commands(specs);
        }
        if (ratesChanged) {
            context.admission(new AdmissionConfig(s.getAcceptRate(), s.getAcceptBurst(), s.getLoginRate(), s.getLoginBurst(),
                    s.getConnectionRate(), s.getConnectionBurst(), s.getUserRate(), s.getUserBurst(), a.userSlots(), a.window(),
                    a.alpha(), a.beta(), a.recover(), a.dropLow(), a.dropHigh(), a.maxEventLoopLag(), s.getMaxInFlight(),
                    a.maxPendingOutbound(), a.maxHeapUsed(), a.maxDirectUsed(), degrade, a.maxConnectionsPerAddress(), a.fairness()));
        } else if (degrade != context.degradeLevel()) {
            context.degrade(degrade);
        }
        if (dye != null && !dye.equals(context.dyeRules())) {
            context.dyeRules(dye);
        }
    }
}
