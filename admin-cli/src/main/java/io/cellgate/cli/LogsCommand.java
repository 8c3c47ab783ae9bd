package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.ReopenLogsReply;
import io.cellgate.protocol.admin.v1.ReopenLogsRequest;
import picocli.CommandLine.Command;

@Command(name = "logs", mixinStandardHelpOptions = true, description = "The gateway's log files.",
        subcommands = {LogsCommand.Reopen.class})
final class LogsCommand extends GroupCommand {

    @Command(name = "reopen", mixinStandardHelpOptions = true,
            description = "Open the access log file again, after logrotate moved it (like SIGUSR1).")
    static final class Reopen extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            ReopenLogsReply r = client.call(10).reopenLogs(ReopenLogsRequest.getDefaultInstance());
            ctl.print(out(), r, () -> out().println(r.getReopened() ? "access log reopened" : "the access log is off"));
        }
    }
}
