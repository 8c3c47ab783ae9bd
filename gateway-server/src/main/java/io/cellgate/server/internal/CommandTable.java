package io.cellgate.server.internal;

import io.cellgate.limit.NanoClock;
import io.cellgate.server.config.CommandSpec;
import java.util.List;
import org.agrona.collections.Int2ObjectHashMap;

/** The command table: cmd to {@link Command}. Immutable after construction; lookups do not box. */
public final class CommandTable {
    private final Int2ObjectHashMap<Command> byCmd;
    private final int size;

    public CommandTable(List<CommandSpec> specs, NanoClock clock) {
        byCmd = new Int2ObjectHashMap<>(Math.max(8, specs.size() * 2), 0.65f);
        for (CommandSpec spec : specs) {
            byCmd.put(spec.cmd(), new Command(spec, clock));
        }
        size = specs.size();
    }

    Command get(int cmd) {
        return byCmd.get(cmd);
    }

    public int size() {
        return size;
    }
}
