package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.StatusRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "version", mixinStandardHelpOptions = true, description = "Print gatewayctl's version, and with --gateway the gateway's.")
final class VersionCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--gateway", description = "Also ask the gateway (--admin) for its version.")
    boolean gateway;

    @Override
    public Integer call() {
        spec.commandLine().getOut().println("gatewayctl " + io.cellgate.protocol.Version.get());
        if (gateway) {
            Gatewayctl ctl = Gatewayctl.root(spec);
            try (AdminClient client = ctl.connect()) {
                spec.commandLine().getOut().println("gatewayd " + client.call(10).status(StatusRequest.getDefaultInstance()).getVersion()
                        + " (" + client.address + ")");
            }
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
