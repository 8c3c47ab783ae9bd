package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.CityAbortRequest;
import io.cellgate.protocol.admin.v1.CityResumeRequest;
import io.cellgate.protocol.admin.v1.CityRollbackRequest;
import io.cellgate.protocol.admin.v1.CityStatusReply;
import io.cellgate.protocol.admin.v1.CityStatusRequest;
import io.cellgate.protocol.admin.v1.CitySwitchReply;
import io.cellgate.protocol.admin.v1.CitySwitchRequest;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "city", mixinStandardHelpOptions = true, description = "Move the write points of a whole city.",
        subcommands = {CityCommand.Switch.class, CityCommand.Rollback.class, CityCommand.Status.class, CityCommand.Resume.class,
            CityCommand.Abort.class})
final class CityCommand extends GroupCommand {

    /** How long a switch keeps writes forbidden at least, and waits for the fleet at most. */
    static final class Timing {
        @Option(names = "--settle", defaultValue = "1s", description = "Least time writes of the old city stay forbidden. Default: ${DEFAULT-VALUE}.")
        String settle;

        @Option(names = "--wait", defaultValue = "30s", description = {"Longest wait for every live gateway to apply the forbid and",
            "finish its writes to the old city; past it the switch stays forbidding. Default: ${DEFAULT-VALUE}."})
        String wait;

        long settleMs() {
            return AdminCall.duration("--settle", settle).toMillis();
        }

        long waitMs() {
            return AdminCall.duration("--wait", wait).toMillis();
        }

        /** The call's own deadline: the wait, and time for the moves. */
        long deadlineSeconds() {
            return Math.max(settleMs(), waitMs()) / 1000 + 30;
        }
    }

    @Command(name = "switch", mixinStandardHelpOptions = true,
            description = {"Move every write point of --from to the UP sets of --to, in two phases:",
                "1. forbid writes of --from's users (the phase is stored with the routes) and wait until every",
                "live gateway has applied the forbid and has no write in flight to --from; 2. publish the new",
                "write points and allow writes again, in one change. Reads continue throughout.",
                "A switch that waits past --wait stays forbidding: see city status, resume, abort."})
    static final class Switch extends AdminCall {
        @Option(names = "--from", required = true, description = "The city whose users move.")
        String from;

        @Option(names = "--to", required = true, description = "The city that becomes their write point.")
        String to;

        @Option(names = "--dry-run", description = "Show what would move; change nothing.")
        boolean dryRun;

        @Mixin
        Timing timing;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            CitySwitchReply r = client.call(timing.deadlineSeconds()).citySwitch(CitySwitchRequest.newBuilder().setFrom(from).setTo(to)
                    .setDryRun(dryRun).setSettleMs(timing.settleMs()).setWaitMs(timing.waitMs()).build());
            ctl.print(out(), r, () -> {
                if (r.getDryRun()) {
                    out().println("dry run: " + r.getSlotsMoved() + " slots would move from " + from + " to " + to
                            + "; nothing changed (epoch " + r.getPreviousEpoch() + ")");
                } else {
                    printDone(this, r, from);
                }
                Table t = new Table("CHANGE");
                r.getDiffList().forEach(t::row);
                t.print(out());
            });
        }
    }

    static void printDone(AdminCall call, CitySwitchReply r, String from) {
        call.out().println((r.getRollback() ? "rolled back: " : "switched: ") + r.getSlotsMoved() + " slots moved; writes of " + from
                + " forbidden at epoch " + r.getForbidEpoch() + " for " + r.getForbiddenMs() + " ms (" + r.getGateways()
                + " gateways ready), new write points and writes allowed at epoch " + r.getFinalEpoch());
        call.out().println("fence " + r.getForbidEpoch() + " acknowledged by " + r.getFencedEndpoints() + " of "
                + r.getOldCityEndpoints() + " AO endpoints of " + from);
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = {"Switch back the last city switch: the write points it moved, where they still are in its",
                "new city, return to their sets, with a forbid window of its own. Later changes are kept."})
    static final class Rollback extends AdminCall {
        @Mixin
        Timing timing;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            RoutesCommand.printApplied(this, ctl, client.call(timing.deadlineSeconds()).cityRollback(CityRollbackRequest.newBuilder()
                    .setSettleMs(timing.settleMs()).setWaitMs(timing.waitMs()).build()));
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "The city switch under way or last made; while it forbids, the gateways it waits for.")
    static final class Status extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(30).cityStatus(CityStatusRequest.getDefaultInstance()));
        }
    }

    static void print(AdminCall call, Gatewayctl ctl, CityStatusReply r) {
        ctl.print(call.out(), r, () -> {
            if (!r.getRecorded()) {
                call.out().println("no city switch recorded (route epoch " + r.getRouteEpoch() + ")");
                return;
            }
            call.out().println((r.getRollback() ? "rollback " : "switch ") + r.getFrom() + " -> " + r.getTo() + ": " + r.getPhase()
                    + "; writes of " + r.getFrom() + " forbidden at epoch " + r.getForbidEpoch() + ", started "
                    + Instant.ofEpochMilli(r.getStartedAtMs()) + " (route epoch now " + r.getRouteEpoch() + ")");
            if (r.getPhase().equals("FORBIDDING")) {
                if (r.getWaitingForCount() == 0) {
                    call.out().println("every live gateway is ready: gatewayctl city resume finishes it");
                } else {
                    Table t = new Table("WAITING FOR");
                    r.getWaitingForList().forEach(t::row);
                    t.print(call.out());
                }
            }
        });
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Finish a switch left forbidding (its gateway stopped, or it waited too long): wait again, then move.")
    static final class Resume extends AdminCall {
        @Mixin
        Timing timing;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            CitySwitchReply r = client.call(timing.deadlineSeconds()).cityResume(CityResumeRequest.newBuilder()
                    .setSettleMs(timing.settleMs()).setWaitMs(timing.waitMs()).build());
            ctl.print(out(), r, () -> {
                printDone(this, r, "the old city");
                Table t = new Table("CHANGE");
                r.getDiffList().forEach(t::row);
                t.print(out());
            });
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true,
            description = "Stop a switch still forbidding: writes of its old city are allowed again; no write point moves.")
    static final class Abort extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(30).cityAbort(CityAbortRequest.getDefaultInstance()));
        }
    }
}
