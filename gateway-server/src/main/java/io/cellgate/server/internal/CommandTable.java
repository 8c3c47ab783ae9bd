package io.cellgate.server.internal;

import io.cellgate.limit.Admission;
import io.cellgate.limit.NanoClock;
import io.cellgate.protocol.v1.Code;
import io.cellgate.server.config.CommandSpec;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.agrona.collections.Int2ObjectHashMap;

/** The command table: cmd to {@link Command}. Immutable after construction; lookups do not box. */
public final class CommandTable {
    private final Int2ObjectHashMap<Command> byCmd;
    private final int size;

    /**
     * A table whose commands keep the counters they had in {@code previous} (may be null) and record
     * their latency in {@code latency}, labelled by cmd; their limiters admit {@code fleetShare} of a
     * command's fleet rate (1 for a gateway alone).
     */
    public CommandTable(List<CommandSpec> specs, double fleetShare, NanoClock clock, CommandTable previous, LatencyHistogram latency,
                        LatencyHistogram gatewayTime) {
        this.fleetShare = fleetShare;
        byCmd = new Int2ObjectHashMap<>(Math.max(8, specs.size() * 2), 0.65f);
        for (CommandSpec spec : specs) {
            Command old = previous == null ? null : previous.get(spec.cmd());
            LongAdder[] decisions = old != null ? old.decisions : newCounters(Admission.values().length);
            LongAdder[] codes = old != null ? old.codes : newCounters(CODES);
            String label = Integer.toUnsignedString(spec.cmd());
            byCmd.put(spec.cmd(), new Command(spec, fleetShare, clock, decisions, codes, latency.series(label), gatewayTime.series(label)));
        }
        size = specs.size();
        this.specs = List.copyOf(specs);
    }

    /** Codes are numbered densely from 0; the array covers all of them. */
    static final int CODES = Code.values().length - 1;

    private final List<CommandSpec> specs;
    private final double fleetShare;

    /** The commands as configured (or changed by an operator); their limiters' rates are {@link #effectiveRate}. */
    public List<CommandSpec> specs() {
        return specs;
    }

    /** The share of each command's fleet rate this table admits. */
    public double fleetShare() {
        return fleetShare;
    }

    /** The rate {@code cmd} is admitted at here now (0: no limit). */
    public double effectiveRate(int cmd) {
        Command c = get(cmd);
        return c == null ? 0 : c.spec.effectiveRate(fleetShare);
    }

    /** How many responses of {@code cmd} carried {@code code}. */
    public long responses(int cmd, Code code) {
        Command c = get(cmd);
        return c == null ? 0 : c.codes[code.getNumber()].sum();
    }

    private static LongAdder[] newCounters(int n) {
        LongAdder[] counters = new LongAdder[n];
        for (int i = 0; i < counters.length; i++) {
            counters[i] = new LongAdder();
        }
        return counters;
    }

    /** How many requests of {@code cmd} got {@code decision}; 0 for an unknown command. */
    public long decisions(int cmd, Admission decision) {
        Command c = get(cmd);
        return c == null ? 0 : c.decisions[decision.ordinal()].sum();
    }

    Command get(int cmd) {
        return byCmd.get(cmd);
    }

    public int size() {
        return size;
    }
}
