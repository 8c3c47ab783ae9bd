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
     * their latency in {@code latency}, labelled by cmd.
     */
    public CommandTable(List<CommandSpec> specs, NanoClock clock, CommandTable previous, LatencyHistogram latency, LatencyHistogram gatewayTime) {
        byCmd = new Int2ObjectHashMap<>(Math.max(8, specs.size() * 2), 0.65f);
        for (CommandSpec spec : specs) {
            Command old = previous == null ? null : previous.get(spec.cmd());
            LongAdder[] decisions = old != null ? old.decisions : newCounters(Admission.values().length);
            LongAdder[] codes = old != null ? old.codes : newCounters(CODES);
            String label = Integer.toUnsignedString(spec.cmd());
            byCmd.put(spec.cmd(), new Command(spec, clock, decisions, codes, latency.series(label), gatewayTime.series(label)));
        }
        size = specs.size();
        this.specs = List.copyOf(specs);
    }

    /** Codes are numbered densely from 0; the array covers all of them. */
    static final int CODES = Code.values().length - 1;

    private final List<CommandSpec> specs;

    public List<CommandSpec> specs() {
        return specs;
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
