package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.ConnectionInfo;
import io.cellgate.protocol.admin.v1.KickConnectionReply;
import io.cellgate.protocol.admin.v1.KickConnectionRequest;
import io.cellgate.protocol.admin.v1.ListConnectionsReply;
import io.cellgate.protocol.admin.v1.ListConnectionsRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "conns", mixinStandardHelpOptions = true, description = "Client connections.",
        subcommands = {ConnsCommand.ListConns.class, ConnsCommand.Kick.class})
final class ConnsCommand extends GroupCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List logged-in connections.")
    static final class ListConns extends AdminCall {
        @Option(names = "--limit", defaultValue = "100", description = "At most this many. Default: ${DEFAULT-VALUE}.")
        int limit;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(10).listConnections(ListConnectionsRequest.newBuilder().setLimit(limit).build()), "connections open");
        }
    }

    /** Prints connections as a table, or the reply as JSON. */
    static void print(AdminCall call, Gatewayctl ctl, ListConnectionsReply r, String total) {
        ctl.print(call.out(), r, () -> {
            call.out().println(r.getTotal() + " " + total);
            Table t = new Table("SESSION", "UID", "REMOTE", "IN FLIGHT", "DEVICE", "DEVICE ID", "APP");
            for (ConnectionInfo c : r.getConnectionsList()) {
                t.row(c.getSessionId(), Long.toUnsignedString(c.getUid()), c.getRemote(), c.getInFlight(),
                        c.getDevice().isEmpty() ? "-" : c.getDevice(), c.getDeviceId().isEmpty() ? "-" : c.getDeviceId(),
                        c.getAppVersion().isEmpty() ? "-" : c.getAppVersion());
            }
            t.print(call.out());
        });
    }

    @Command(name = "kick", mixinStandardHelpOptions = true,
            description = "Send a connection go_away and close it once its requests in flight are answered.")
    static final class Kick extends AdminCall {
        @Parameters(index = "0", description = "The session id (conns list).")
        String session;

        @Option(names = "--reconnect-after", defaultValue = "0s", description = "Ask the client to reconnect after this delay.")
        String reconnectAfter;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            KickConnectionReply r = client.call(10).kickConnection(KickConnectionRequest.newBuilder().setSessionId(session)
                    .setReconnectAfterMs((int) duration("--reconnect-after", reconnectAfter).toMillis()).build());
            ctl.print(out(), r, () -> out().println("kicked session " + session));
        }
    }
}
