package io.cellgate.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.cellgate.protocol.admin.v1.DyeRuleInfo;
import io.cellgate.protocol.admin.v1.DyeRules;
import io.cellgate.protocol.admin.v1.GetDyeRulesRequest;
import io.cellgate.protocol.admin.v1.SetDyeRulesRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "dye", mixinStandardHelpOptions = true, description = "Show or replace the dye rules (with a fleet: the fleet's).",
        subcommands = {DyeCommand.ListRules.class, DyeCommand.SetRules.class, DyeCommand.Clear.class})
final class DyeCommand extends GroupCommand {

    static void print(AdminCall call, Gatewayctl ctl, DyeRules rules) {
        ctl.print(call.out(), rules, () -> {
            if (rules.getRulesCount() == 0) {
                call.out().println("no dye rules (nobody is dyed; clients' own dyes are ignored)");
                return;
            }
            Table t = new Table("#", "TAG", "UIDS", "DEVICES", "APP VERSIONS", "CLIENT DYE", "READ SET", "WRITE SET");
            for (int i = 0; i < rules.getRulesCount(); i++) {
                DyeRuleInfo r = rules.getRules(i);
                String uids = String.join(",", r.getUidsList().stream().map(Long::toUnsignedString).toList());
                if (r.getHasUidRange()) {
                    uids = (uids.isEmpty() ? "" : uids + ",") + Long.toUnsignedString(r.getUidFrom()) + "-" + Long.toUnsignedString(r.getUidTo());
                }
                t.row(i + 1, r.getTag().isEmpty() ? "-" : r.getTag(), uids.isEmpty() ? "any" : uids,
                        r.getDevicesCount() == 0 ? "any" : String.join(",", r.getDevicesList()),
                        r.getAppVersionsCount() == 0 ? "any" : String.join(",", r.getAppVersionsList()), r.getClientDye() ? "yes" : "no",
                        r.getReadSet().isEmpty() ? "-" : r.getReadSet(), r.getWriteSet().isEmpty() ? "-" : r.getWriteSet());
            }
            t.print(call.out());
        });
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The dye rules in use, in the order they are tried.")
    static final class ListRules extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(10).getDyeRules(GetDyeRulesRequest.getDefaultInstance()));
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Replace the dye rules with those of a JSON file ({\"rules\": [{\"tag\": \"canary\", \"uids\": [\"42\"]}, ...]};"
                    + " `gatewayctl -o json dye list` writes one).")
    static final class SetRules extends AdminCall {
        @Option(names = "--file", required = true, description = "The rules as JSON (cellgate.v1 DyeRules).")
        Path file;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            DyeRules.Builder rules = DyeRules.newBuilder();
            try {
                JsonFormat.parser().merge(Files.readString(file, StandardCharsets.UTF_8), rules);
            } catch (InvalidProtocolBufferException e) {
                throw new UsageException("--file: " + file + " (expected: dye rules as JSON, {\"rules\": [...]}): " + e.getMessage());
            } catch (IOException e) {
                throw new UsageException("--file: " + file + " cannot be read: " + e.getMessage());
            }
            print(this, ctl, client.call(10).setDyeRules(SetDyeRulesRequest.newBuilder().setRules(rules).build()));
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true, description = "Remove every dye rule: nobody is dyed.")
    static final class Clear extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(10).setDyeRules(SetDyeRulesRequest.newBuilder().setRules(DyeRules.getDefaultInstance()).build()));
        }
    }
}
