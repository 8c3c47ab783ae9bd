package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.CityRollbackRequest;
import io.cellgate.protocol.admin.v1.CitySwitchReply;
import io.cellgate.protocol.admin.v1.CitySwitchRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "city", mixinStandardHelpOptions = true, description = "Move the write points of a whole city.",
        subcommands = {CityCommand.Switch.class, CityCommand.Rollback.class})
final class CityCommand extends GroupCommand {

    @Command(name = "switch", mixinStandardHelpOptions = true,
            description = {"Move every write point of --from to the UP sets of --to, in two phases:",
                "1. forbid writes of --from's users and wait for writes in flight; 2. publish the new",
                "write points and allow writes again. Reads continue throughout."})
    static final class Switch extends AdminCall {
        @Option(names = "--from", required = true, description = "The city whose users move.")
        String from;

        @Option(names = "--to", required = true, description = "The city that becomes their write point.")
        String to;

        @Option(names = "--dry-run", description = "Show what would move; change nothing.")
        boolean dryRun;

        @Option(names = "--settle", defaultValue = "5s", description = "Longest wait for writes in flight. Default: ${DEFAULT-VALUE}.")
        String settle;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            CitySwitchReply r = client.call(120).citySwitch(CitySwitchRequest.newBuilder().setFrom(from).setTo(to).setDryRun(dryRun)
                    .setSettleMs(duration("--settle", settle).toMillis()).build());
            ctl.print(out(), r, () -> {
                if (r.getDryRun()) {
                    out().println("dry run: " + r.getSlotsMoved() + " slots would move from " + from + " to " + to
                            + "; nothing changed (epoch " + r.getPreviousEpoch() + ")");
                } else {
                    out().println("switched " + r.getSlotsMoved() + " slots from " + from + " to " + to + ": writes forbidden at epoch "
                            + r.getForbidEpoch() + ", new write points at " + r.getSwitchedEpoch() + ", writes allowed at "
                            + r.getFinalEpoch() + "; gatewayctl city rollback restores epoch " + r.getPreviousEpoch() + "'s routes");
                    out().println("fence " + r.getForbidEpoch() + " acknowledged by " + r.getFencedEndpoints() + " of "
                            + r.getOldCityEndpoints() + " AO endpoints of " + from);
                }
                Table t = new Table("CHANGE");
                r.getDiffList().forEach(t::row);
                t.print(out());
            });
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = "Restore the routes from before the last city switch.")
    static final class Rollback extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            RoutesCommand.printApplied(this, ctl, client.call(30).cityRollback(CityRollbackRequest.getDefaultInstance()));
        }
    }
}
