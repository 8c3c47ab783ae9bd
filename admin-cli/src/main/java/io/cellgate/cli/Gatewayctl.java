package io.cellgate.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code gatewayctl}: the operator CLI of cellgate.
 *
 * <p>Exit codes: 0 success; 1 the operation failed (the message says why); 2 usage error.
 */
@Command(name = "gatewayctl", mixinStandardHelpOptions = true, version = "gatewayctl 0.1.0",
        description = "Operate cellgate gateways.",
        subcommands = {TokenCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the operation failed (the message on stderr says why)", "2:usage error"})
public final class Gatewayctl implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Runs gatewayctl with {@code args}, writing to {@code out} and {@code err}; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Gatewayctl());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("gatewayctl: " + ex.getMessage());
            return 1;
        });
        return cl.execute(args);
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }
}
