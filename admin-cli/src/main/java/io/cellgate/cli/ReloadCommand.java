package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.ReloadReply;
import io.cellgate.protocol.admin.v1.ReloadRequest;
import picocli.CommandLine.Command;

@Command(name = "reload", mixinStandardHelpOptions = true,
        description = "Re-read the gateway's configuration file (like SIGHUP); a broken one is refused and the old one stays.")
final class ReloadCommand extends AdminCall {
    @Override
    void run(AdminClient client, Gatewayctl ctl) {
        ReloadReply r = client.call(30).reload(ReloadRequest.getDefaultInstance());
        ctl.print(out(), r, () -> out().println("reloaded" + (r.getNeedsRestartCount() == 0 ? ""
                : "; these changes need a restart: " + String.join(", ", r.getNeedsRestartList()))));
    }
}
