package io.cellgate.cli;

import com.google.protobuf.util.JsonFormat;
import io.cellgate.protocol.admin.v1.ApplyRoutesReply;
import io.cellgate.protocol.admin.v1.ApplyRoutesRequest;
import io.cellgate.protocol.admin.v1.GetRoutesRequest;
import io.cellgate.protocol.admin.v1.Override;
import io.cellgate.protocol.admin.v1.ReplaceRoutesRequest;
import io.cellgate.protocol.admin.v1.RouteChangeMsg;
import io.cellgate.protocol.admin.v1.Routes;
import io.cellgate.protocol.admin.v1.SetInfo;
import io.cellgate.protocol.admin.v1.SlotRange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "routes", mixinStandardHelpOptions = true, description = "Read and change the route table.",
        subcommands = {RoutesCommand.Get.class, RoutesCommand.Set.class, RoutesCommand.Move.class, RoutesCommand.Diff.class,
            RoutesCommand.Import.class, RoutesCommand.Export.class})
final class RoutesCommand extends GroupCommand {

    static void printApplied(AdminCall call, Gatewayctl ctl, ApplyRoutesReply reply) {
        ctl.print(call.out(), reply, () -> {
            call.out().println((reply.getDryRun() ? "dry run: nothing changed; epoch stays " : "route epoch ") + reply.getEpoch());
            Table t = new Table("CHANGE");
            reply.getDiffList().forEach(t::row);
            if (reply.getDiffCount() == 0) {
                t.row("(no difference)");
            }
            t.print(call.out());
        });
    }

    static Routes readFile(Path file) {
        try {
            Routes.Builder b = Routes.newBuilder();
            JsonFormat.parser().merge(Files.readString(file, StandardCharsets.UTF_8), b);
            return b.build();
        } catch (IOException e) {
            throw new UsageException("--file: " + file + " (expected: a routes JSON file from gatewayctl routes export): " + e.getMessage());
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show the route table: sets, write points, forbids.")
    static final class Get extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            // The per-user entries (possibly millions) are counted, not listed: `routes export` lists them.
            Routes r = client.call(10).getRoutes(GetRoutesRequest.newBuilder().setWithoutUsers(true).build());
            ctl.print(out(), r, () -> {
                out().println("route epoch " + r.getEpoch() + ", " + r.getSlotCount() + " slots"
                        + (r.getCenterSet().isEmpty() ? "" : ", center set " + r.getCenterSet()));
                Table sets = new Table("SET", "CITY", "IDC", "STATE", "HEALTH", "WEIGHT", "SLOTS", "ENDPOINTS");
                for (SetInfo s : r.getSetsList()) {
                    sets.row(s.getName(), s.getCity(), s.getIdc(), s.getState(), s.getHealth().isEmpty() ? "-" : s.getHealth(), s.getWeight(), s.getSlots(), String.join(",", s.getEndpointsList()));
                }
                sets.print(out());
                Table wp = new Table("SLOTS", "WRITE POINT");
                for (SlotRange range : r.getWritePointsList()) {
                    wp.row(range.getFrom() + "-" + range.getTo(), range.getSet());
                }
                wp.print(out());
                out().println("overrides: " + r.getOverrideCount() + "; forbidden slot ranges: " + r.getForbiddenSlotsCount()
                        + "; forbidden cities: " + (r.getForbiddenCitiesCount() == 0 ? "none" : String.join(",", r.getForbiddenCitiesList()))
                        + "; revoked users: " + r.getRevocationCount());
            });
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Make a set the write point of a slot range.")
    static final class Set extends AdminCall {
        @Option(names = "--slots", required = true, description = "Slot range, e.g. 0-4095.")
        String slots;

        @Option(names = "--set", required = true, description = "The new write-point set.")
        String set;

        @CommandLine.Mixin
        ChangeOptions change;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            int[] range = slots(slots);
            ApplyRoutesReply reply = client.call(30).applyRoutes(ApplyRoutesRequest.newBuilder().setExpectedEpoch(change.epoch).setDryRun(change.dryRun)
                    .addChanges(RouteChangeMsg.newBuilder().setMoveSlots(SlotRange.newBuilder().setFrom(range[0]).setTo(range[1]).setSet(set)))
                    .build());
            printApplied(this, ctl, reply);
        }
    }

    @Command(name = "move", mixinStandardHelpOptions = true,
            description = "Move one user's write point to a set (its data moved), or --clear to follow its slot again.")
    static final class Move extends AdminCall {
        @Option(names = "--uid", required = true, description = "The user id.")
        String uid;

        @Option(names = "--to", description = "The set holding the user's data now.")
        String to;

        @Option(names = "--clear", description = "Remove the user's override.")
        boolean clear;

        @CommandLine.Mixin
        ChangeOptions change;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            if (clear == (to != null)) {
                throw new UsageException("give exactly one of --to SET and --clear");
            }
            long id = uid(uid);
            RouteChangeMsg move = clear ? RouteChangeMsg.newBuilder().setClearOverride(id).build()
                    : RouteChangeMsg.newBuilder().setSetOverride(Override.newBuilder().setUid(id).setSet(to)).build();
            printApplied(this, ctl, client.call(30).applyRoutes(ApplyRoutesRequest.newBuilder().setExpectedEpoch(this.change.epoch)
                    .setDryRun(this.change.dryRun).addChanges(move).build()));
        }
    }

    @Command(name = "diff", mixinStandardHelpOptions = true, description = "Show how a routes file differs from the gateway's routes.")
    static final class Diff extends AdminCall {
        @Option(names = "--file", required = true, description = "A routes JSON file (as written by routes export).")
        Path file;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            printApplied(this, ctl, client.call(30).replaceRoutes(ReplaceRoutesRequest.newBuilder().setRoutes(readFile(file))
                    .setDryRun(true).build()));
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = "Replace the gateway's routes with a routes file.")
    static final class Import extends AdminCall {
        @Option(names = "--file", required = true, description = "A routes JSON file (as written by routes export).")
        Path file;

        @CommandLine.Mixin
        ChangeOptions change;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            printApplied(this, ctl, client.call(30).replaceRoutes(ReplaceRoutesRequest.newBuilder().setRoutes(readFile(file))
                    .setExpectedEpoch(change.epoch).setDryRun(change.dryRun).build()));
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, description = "Write the gateway's routes as JSON (to --file or stdout).")
    static final class Export extends AdminCall {
        @Option(names = "--file", description = "Write here instead of stdout.")
        Path file;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) throws IOException {
            Routes r = client.call(10).getRoutes(GetRoutesRequest.getDefaultInstance());
            String json = JsonFormat.printer().print(r);
            if (file == null) {
                out().println(json);
                out().flush();
            } else {
                Files.writeString(file, json + "\n", StandardCharsets.UTF_8);
                if (!ctl.json()) {
                    out().println("wrote routes of epoch " + r.getEpoch() + " to " + file);
                } else {
                    out().println(json);
                }
                out().flush();
            }
        }
    }
}
