package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.ApplyRoutesRequest;
import io.cellgate.protocol.admin.v1.GetRoutesRequest;
import io.cellgate.protocol.admin.v1.RouteChangeMsg;
import io.cellgate.protocol.admin.v1.Routes;
import io.cellgate.protocol.admin.v1.SetInfo;
import io.cellgate.protocol.admin.v1.SetStateChange;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sets", mixinStandardHelpOptions = true, description = "List sets; force a set DRAINING, DOWN or UP.",
        subcommands = {SetsCommand.ListSets.class, SetsCommand.Drain.class, SetsCommand.Down.class, SetsCommand.Up.class})
final class SetsCommand extends GroupCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the sets with their state and endpoints.")
    static final class ListSets extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            Routes r = client.call(10).getRoutes(GetRoutesRequest.newBuilder().setWithoutUsers(true).build());
            ctl.print(out(), r, () -> {
                Table t = new Table("SET", "CITY", "IDC", "STATE", "HEALTH", "WEIGHT", "SLOTS", "ENDPOINTS");
                for (SetInfo s : r.getSetsList()) {
                    t.row(s.getName(), s.getCity(), s.getIdc(), s.getState(), s.getHealth().isEmpty() ? "-" : s.getHealth(), s.getWeight(), s.getSlots(), String.join(",", s.getEndpointsList()));
                }
                t.print(out());
            });
        }
    }

    /** Sets a set's state. */
    abstract static class StateChange extends AdminCall {
        @Parameters(index = "0", description = "The set.")
        String set;

        @Option(names = "--dry-run", description = "Show what would change; change nothing.")
        boolean dryRun;

        abstract String state();

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            RoutesCommand.printApplied(this, ctl, client.call(30).applyRoutes(ApplyRoutesRequest.newBuilder().setDryRun(dryRun)
                    .addChanges(RouteChangeMsg.newBuilder().setSetState(SetStateChange.newBuilder().setSet(set).setState(state())))
                    .build()));
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true, description = "DRAINING: no new reads; still its users' write point.")
    static final class Drain extends StateChange {
        @java.lang.Override
        String state() {
            return "DRAINING";
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "DOWN: serves nothing; its writes follow the failover policy.")
    static final class Down extends StateChange {
        @java.lang.Override
        String state() {
            return "DOWN";
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true, description = "UP: serves reads and writes.")
    static final class Up extends StateChange {
        @java.lang.Override
        String state() {
            return "UP";
        }
    }
}
