package io.cellgate.cli;

import picocli.CommandLine.Option;

/** The options of every route change: compare-and-swap on the epoch, and a dry run. */
final class ChangeOptions {
    @Option(names = "--epoch", defaultValue = "0", description = "Apply only if the route epoch is still this (0 = any).")
    long epoch;

    @Option(names = "--dry-run", description = "Show what would change; change nothing.")
    boolean dryRun;
}
