package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.CommandInfo;
import io.cellgate.protocol.admin.v1.ListCommandsReply;
import io.cellgate.protocol.admin.v1.ListCommandsRequest;
import io.cellgate.protocol.admin.v1.SetCommandRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "cmds", mixinStandardHelpOptions = true, description = "The command table.",
        subcommands = {CmdsCommand.ListCmds.class, CmdsCommand.SetCmd.class})
final class CmdsCommand extends GroupCommand {

    static void print(AdminCall call, Gatewayctl ctl, ListCommandsReply r) {
        ctl.print(call.out(), r, () -> {
            Table t = new Table("CMD", "METHOD", "ROUTE", "PRIORITY", "TIMEOUT", "RATE", "BURST", "FLEET RATE", "HERE", "FAILOVER", "GROUP");
            for (CommandInfo c : r.getCommandsList()) {
                t.row(Integer.toUnsignedString(c.getCmd()), c.getMethod(), c.getRoute(), c.getPriority(), c.getTimeoutMs() + "ms",
                        c.getRate() == 0 ? "unlimited" : String.valueOf(c.getRate()), c.getBurst(),
                        c.getFleetRate() == 0 ? "-" : String.valueOf(c.getFleetRate()),
                        c.getEffectiveRate() == 0 ? "unlimited" : String.format(java.util.Locale.ROOT, "%.1f", c.getEffectiveRate()),
                        c.getWriteFailover(), c.getGroup());
            }
            t.print(call.out());
        });
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the commands.")
    static final class ListCmds extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(10).listCommands(ListCommandsRequest.getDefaultInstance()));
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Change a command's priority, timeout or rate limit.")
    static final class SetCmd extends AdminCall {
        @Parameters(index = "0", description = "The command word.")
        long cmd;

        @Option(names = "--priority", description = "P0..P3.")
        String priority;

        @Option(names = "--timeout", description = "The AO call's deadline, e.g. 2s.")
        String timeout;

        @Option(names = "--rate", description = "Requests per second through this gateway.")
        Double rate;

        @Option(names = "--burst", description = "The bucket's capacity.")
        Integer burst;

        @Option(names = "--fleet-rate", description = "Requests per second across the fleet (each gateway admits its share).")
        Double fleetRate;

        @Option(names = "--unlimited", description = "Remove the rate limit and the fleet rate.")
        boolean unlimited;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            SetCommandRequest.Builder b = SetCommandRequest.newBuilder().setCmd((int) cmd).setUnlimited(unlimited);
            if (priority != null) {
                b.setPriority(priority);
            }
            if (timeout != null) {
                b.setTimeoutMs(duration("--timeout", timeout).toMillis());
            }
            if (rate != null) {
                if (rate <= 0) {
                    throw new UsageException("--rate: " + rate + " (expected: > 0; use --unlimited to remove the limit)");
                }
                b.setRate(rate);
            }
            if (burst != null) {
                b.setBurst(burst);
            }
            if (fleetRate != null) {
                if (fleetRate <= 0) {
                    throw new UsageException("--fleet-rate: " + fleetRate + " (expected: > 0; use --unlimited to remove the limit)");
                }
                b.setFleetRate(fleetRate);
            }
            print(this, ctl, client.call(10).setCommand(b.build()));
        }
    }
}
