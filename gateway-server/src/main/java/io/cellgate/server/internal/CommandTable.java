package io.cellgate.server.internal;

import io.cellgate.limit.Admission;
import io.cellgate.limit.NanoClock;
import io.cellgate.server.config.CommandSpec;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.agrona.collections.Int2ObjectHashMap;

/** The command table: cmd to {@link Command}. Immutable after construction; lookups do not box. */
public final class CommandTable {
    private final Int2ObjectHashMap<Command> byCmd;
    private final int size;

    public CommandTable(List<CommandSpec> specs, NanoClock clock) {
        this(specs, clock, null);
    }

    /** A table whose commands keep the decision counters they had in {@code previous}. */
    public CommandTable(List<CommandSpec> specs, NanoClock clock, CommandTable previous) {
        byCmd = new Int2ObjectHashMap<>(Math.max(8, specs.size() * 2), 0.65f);
        for (CommandSpec spec : specs) {
            Command old = previous == null ? null : previous.get(spec.cmd());
            LongAdder[] decisions = old != null ? old.decisions : newCounters();
            byCmd.put(spec.cmd(), new Command(spec, clock, decisions));
        }
        size = specs.size();
    }

    private static LongAdder[] newCounters() {
        LongAdder[] counters = new LongAdder[Admission.values().length];
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
