package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.DrainReply;
import io.cellgate.protocol.admin.v1.DrainRequest;
import picocli.CommandLine.Command;

@Command(name = "drain", mixinStandardHelpOptions = true,
        description = "Drain the gateway (like SIGTERM): clients get go_away, requests in flight finish, then it exits.")
final class DrainCommand extends AdminCall {
    @Override
    void run(AdminClient client, Gatewayctl ctl) {
        DrainReply r = client.call(10).drain(DrainRequest.getDefaultInstance());
        ctl.print(out(), r, () -> out().println(r.getStarted() ? "draining" : "already draining"));
    }
}
