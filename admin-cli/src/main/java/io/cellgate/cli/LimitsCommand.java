package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.GetLimitsRequest;
import io.cellgate.protocol.admin.v1.Limits;
import io.cellgate.protocol.admin.v1.SetLimitsRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "limits", mixinStandardHelpOptions = true, description = "Gateway-wide admission limits.",
        subcommands = {LimitsCommand.Get.class, LimitsCommand.Set.class})
final class LimitsCommand extends GroupCommand {

    static void print(AdminCall call, Gatewayctl ctl, Limits l) {
        ctl.print(call.out(), l, () -> new Table("LIMIT", "VALUE")
                .row("accept-rate", rate(l.getAcceptRate()))
                .row("login-rate", rate(l.getLoginRate()))
                .row("connection-rate", rate(l.getConnectionRate()))
                .row("user-rate", rate(l.getUserRate()))
                .row("max-in-flight", l.getMaxInFlight() == 0 ? "off" : String.valueOf(l.getMaxInFlight()))
                .row("max-in-flight-per-connection", l.getMaxInFlightPerConnection())
                .row("degrade", l.getDegrade())
                .print(call.out()));
    }

    private static String rate(double r) {
        return r == 0 ? "unlimited" : r + "/s";
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show the limits.")
    static final class Get extends AdminCall {
        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            print(this, ctl, client.call(10).getLimits(GetLimitsRequest.getDefaultInstance()));
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Change limits (0 = unlimited); others stay.")
    static final class Set extends AdminCall {
        @Option(names = "--accept-rate", description = "New connections per second.")
        Double acceptRate;

        @Option(names = "--login-rate", description = "Logins per second.")
        Double loginRate;

        @Option(names = "--connection-rate", description = "Requests per second per connection.")
        Double connectionRate;

        @Option(names = "--user-rate", description = "Requests per second per user per command group.")
        Double userRate;

        @Option(names = "--max-in-flight", description = "Requests in flight (whole gateway) that count as overload; 0 = off.")
        Long maxInFlight;

        @java.lang.Override
        void run(AdminClient client, Gatewayctl ctl) {
            SetLimitsRequest r = SetLimitsRequest.newBuilder()
                    .setAcceptRate(nonNegative("--accept-rate", acceptRate))
                    .setLoginRate(nonNegative("--login-rate", loginRate))
                    .setConnectionRate(nonNegative("--connection-rate", connectionRate))
                    .setUserRate(nonNegative("--user-rate", userRate))
                    .setMaxInFlight(maxInFlight == null ? -1 : (long) nonNegative("--max-in-flight", maxInFlight.doubleValue()))
                    .build();
            print(this, ctl, client.call(10).setLimits(r));
        }

        private static double nonNegative(String option, Double value) {
            if (value == null) {
                return -1;
            }
            if (value < 0) {
                throw new UsageException(option + ": " + value + " (expected: >= 0; 0 = unlimited)");
            }
            return value;
        }
    }
}
