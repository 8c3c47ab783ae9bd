package io.cellgate.cli;

import picocli.CommandLine;

/** A gatewayctl command that only groups verbs: run alone, it prints its usage. */
abstract class GroupCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
