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
        ctl.print(out(), r, () -> {
            out().println("reloaded" + (r.getAppliedCount() + r.getNeedsRestartCount() + r.getKeptByRouteStoreCount() == 0
                    ? "; no key changed" : ""));
            if (r.getAppliedCount() > 0) {
                out().println("applied: " + String.join(", ", r.getAppliedList()));
            }
            if (r.getNeedsRestartCount() > 0) {
                out().println("need a restart: " + String.join(", ", r.getNeedsRestartList()));
            }
            if (r.getKeptByRouteStoreCount() > 0) {
                out().println("kept by the store (change them with gatewayctl routes, sets, cmds, limits and degrade): "
                        + String.join(", ", r.getKeptByRouteStoreList()));
            }
        });
    }
}
