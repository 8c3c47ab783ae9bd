package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.SetDegradeRequest;
import io.cellgate.protocol.admin.v1.StatusReply;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "degrade", mixinStandardHelpOptions = true, description = "Refuse lower priorities by hand.",
        subcommands = {DegradeCommand.Set.class, DegradeCommand.Clear.class})
final class DegradeCommand extends GroupCommand {

    static void print(AdminCall call, Gatewayctl ctl, StatusReply s) {
        ctl.print(call.out(), s, () -> call.out().println("degrade: " + s.getDegrade()
                + (s.getDegrade().equals("none") ? " (every priority admitted)" : " (only " + s.getDegrade() + " and above admitted)")
                + (s.getStore().equals("etcd") ? "; for the whole fleet (settings epoch " + s.getSettingsEpoch() + ")" : "")));
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Admit only priorities up to LEVEL (P0, P1 or P2).")
    static final class Set extends AdminCall {
        @Parameters(index = "0", description = "P0, P1 or P2.")
        String level;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(10).setDegrade(SetDegradeRequest.newBuilder().setLevel(level).build()));
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true, description = "Admit every priority again.")
    static final class Clear extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(10).setDegrade(SetDegradeRequest.newBuilder().setLevel("none").build()));
        }
    }
}
