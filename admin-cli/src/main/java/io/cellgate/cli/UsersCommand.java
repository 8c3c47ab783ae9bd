package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.LocateReply;
import io.cellgate.protocol.admin.v1.LocateRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "users", mixinStandardHelpOptions = true, description = "Users' routes.", subcommands = UsersCommand.Locate.class)
final class UsersCommand extends GroupCommand {

    @Command(name = "locate", mixinStandardHelpOptions = true, description = "Where a user's requests go, and why.")
    static final class Locate extends AdminCall {
        @Parameters(index = "0", description = "The user id.")
        String uid;

        @Option(names = "--cmd", defaultValue = "0", description = "A command word: where this command goes for the user.")
        long cmd;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            LocateReply r = client.call(10).locate(LocateRequest.newBuilder().setUid(uid(uid)).setCmd((int) cmd).build());
            ctl.print(out(), r, () -> {
                Table t = new Table("FIELD", "VALUE")
                        .row("uid", Long.toUnsignedString(r.getUid()))
                        .row("slot", r.getSlot())
                        .row("write point", r.getWritePoint() + (r.getOverride() ? " (override)" : ""))
                        .row("reads go to", r.getReadSet().isEmpty() ? "(no UP set)" : r.getReadSet())
                        .row("route epoch", r.getEpoch());
                if (cmd != 0) {
                    t.row("cmd " + cmd, r.getRouteClass() + " -> " + (r.getTargetSet().isEmpty() ? r.getCode() : r.getTargetSet()));
                }
                t.row("why", r.getReason()).print(out());
            });
        }
    }
}
