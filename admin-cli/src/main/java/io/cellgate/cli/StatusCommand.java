package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.FleetMember;
import io.cellgate.protocol.admin.v1.StatusReply;
import io.cellgate.protocol.admin.v1.StatusRequest;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the gateway's state: routes, load, connections.")
final class StatusCommand extends AdminCall {
    @Override
    void run(AdminClient client, Gatewayctl ctl) {
        StatusReply s = client.call(10).status(StatusRequest.getDefaultInstance());
        ctl.print(out(), s, () -> printTable(client, s));
    }

    private void printTable(AdminClient client, StatusReply s) {
        new Table("FIELD", "VALUE")
                .row("gateway", client.address + " (" + s.getCity() + "/" + s.getIdc() + ")")
                .row("ready", s.getReady())
                .row("uptime", s.getUptimeMs() / 1000 + "s")
                .row("route epoch", s.getRouteEpoch() + " (age " + s.getRouteSnapshotAgeMs() / 1000 + "s)")
                .row("sets / commands", s.getSets() + " / " + s.getCommands())
                .row("connections", s.getClientConnections())
                .row("in flight", s.getRequestsInFlight())
                .row("load level", String.format("%.2f", s.getLoadLevel()))
                .row("degrade", s.getDegrade() + (s.getStore().equals("etcd") ? " (fleet settings epoch " + s.getSettingsEpoch() + ")" : ""))
                .row("version", s.getVersion())
                .row("route store", s.getStore() + (s.getStore().equals("etcd")
                        ? (s.getStoreStale() ? " (STALE: etcd last answered " + s.getStoreAgeMs() / 1000 + "s ago)" : " (current)") : ""))
                .print(out());
        if (s.getFleetCount() > 0) {
            out().println();
            Table fleet = new Table("GATEWAY", "CITY", "IDC", "STATE", "LOAD", "CONNECTIONS", "EPOCH", "");
            for (FleetMember m : s.getFleetList()) {
                fleet.row(m.getAddress(), m.getCity(), m.getIdc(), m.getState(), String.format("%.2f", m.getLoadLevel()),
                        m.getClientConnections(), m.getRouteEpoch(), m.getSelf() ? "(this one)" : "");
            }
            fleet.print(out());
        }
    }
}
