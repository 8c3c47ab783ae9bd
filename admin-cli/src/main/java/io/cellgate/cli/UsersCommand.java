package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.LocateReply;
import io.cellgate.protocol.admin.v1.LocateRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "users", mixinStandardHelpOptions = true, description = "Users' routes and connections, and revoking users.",
        subcommands = {UsersCommand.Locate.class, UsersCommand.Sessions.class, UsersCommand.Kick.class, UsersCommand.Revoke.class,
                UsersCommand.Restore.class})
final class UsersCommand extends GroupCommand {

    /** Applies one revocation change: {@code untilEpochSeconds} 0 lifts it. */
    static void revoke(AdminCall call, AdminClient client, Gatewayctl ctl, String uid, long untilEpochSeconds, boolean dryRun) {
        RoutesCommand.printApplied(call, ctl, client.call(30).applyRoutes(io.cellgate.protocol.admin.v1.ApplyRoutesRequest.newBuilder()
                .setDryRun(dryRun).addChanges(io.cellgate.protocol.admin.v1.RouteChangeMsg.newBuilder()
                        .setRevokeUser(io.cellgate.protocol.admin.v1.RevokeUserChange.newBuilder().setUid(AdminCall.uid(uid))
                                .setUntilEpochSeconds(untilEpochSeconds))).build()));
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Close a user's sessions on every gateway sharing the routes, and refuse its logins for a while.")
    static final class Revoke extends AdminCall {
        @Parameters(index = "0", description = "The user id.")
        String uid;

        @Option(names = "--for", defaultValue = "24h", description = "How long its logins are refused (e.g. 30m, 24h). Default: ${DEFAULT-VALUE}.")
        String period;

        @Option(names = "--dry-run", description = "Show what would change; change nothing.")
        boolean dryRun;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            java.time.Duration d = duration("--for", period);
            if (d.isZero() || d.isNegative()) {
                throw new UsageException("--for: " + period + " (expected: a positive duration)");
            }
            long until = System.currentTimeMillis() / 1000 + Math.max(1, d.toSeconds());
            revoke(this, client, ctl, uid, until, dryRun);
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true, description = "Lift a user's revocation: it may log in again.")
    static final class Restore extends AdminCall {
        @Parameters(index = "0", description = "The user id.")
        String uid;

        @Option(names = "--dry-run", description = "Show what would change; change nothing.")
        boolean dryRun;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            revoke(this, client, ctl, uid, 0, dryRun);
        }
    }

    @Command(name = "sessions", mixinStandardHelpOptions = true, description = "A user's connections on this gateway.")
    static final class Sessions extends AdminCall {
        @Parameters(index = "0", description = "The user id.")
        String uid;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            ConnsCommand.print(this, ctl, client.call(10).listConnections(io.cellgate.protocol.admin.v1.ListConnectionsRequest.newBuilder()
                    .setUid(uid(uid)).build()), "connections of user " + uid);
        }
    }

    @Command(name = "kick", mixinStandardHelpOptions = true,
            description = "Send every connection of a user on this gateway (or, with --fleet, on every gateway) go_away; each closes "
                    + "once its requests in flight are answered. To keep the user out, use revoke.")
    static final class Kick extends AdminCall {
        @Parameters(index = "0", description = "The user id.")
        String uid;

        @Option(names = "--reconnect-after", defaultValue = "0s", description = "Ask the clients to reconnect after this delay.")
        String reconnectAfter;

        @Option(names = "--fleet", description = "On every gateway that holds the user (needs sessions.directory).")
        boolean fleet;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            io.cellgate.protocol.admin.v1.KickConnectionReply r = client.call(15).kickConnection(
                    io.cellgate.protocol.admin.v1.KickConnectionRequest.newBuilder().setUid(uid(uid)).setFleet(fleet)
                            .setReconnectAfterMs((int) duration("--reconnect-after", reconnectAfter).toMillis()).build());
            ctl.print(out(), r, () -> {
                out().println("told " + r.getCount() + " connection" + (r.getCount() == 1 ? "" : "s") + " of user " + uid + " to go away"
                        + (fleet ? " across the fleet" : ""));
                if (r.getGatewaysUnreachable() > 0) {
                    out().println(r.getGatewaysUnreachable() + " gateway(s) holding the user could not be reached");
                }
                if (r.getDirectoryUnavailable()) {
                    out().println("the session directory did not answer: only this gateway's connections were kicked");
                }
            });
        }
    }

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
