package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.StatusReply;
import io.cellgate.protocol.admin.v1.StatusRequest;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the gateway's state: routes, load, connections.")
final class StatusCommand extends AdminCall {
    @Override
    void run(AdminClient client, Gatewayctl ctl) {
        StatusReply s = client.call(10).status(StatusRequest.getDefaultInstance());
        ctl.print(out(), s, () -> new Table("FIELD", "VALUE")
                .row("gateway", client.address + " (" + s.getCity() + "/" + s.getIdc() + ")")
                .row("ready", s.getReady())
                .row("uptime", s.getUptimeMs() / 1000 + "s")
                .row("route epoch", s.getRouteEpoch() + " (age " + s.getRouteSnapshotAgeMs() / 1000 + "s)")
                .row("sets / commands", s.getSets() + " / " + s.getCommands())
                .row("connections", s.getClientConnections())
                .row("in flight", s.getRequestsInFlight())
                .row("load level", String.format("%.2f", s.getLoadLevel()))
                .row("degrade", s.getDegrade())
                .row("version", s.getVersion())
                .print(out()));
    }
}
