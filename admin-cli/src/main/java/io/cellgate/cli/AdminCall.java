package io.cellgate.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** What every gatewayctl command that calls the admin API shares. */
abstract class AdminCall implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Gatewayctl ctl() {
        return Gatewayctl.root(spec);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    @Override
    public final Integer call() throws Exception {
        Gatewayctl ctl = ctl();
        ctl.json(); // validates -o before connecting
        try (AdminClient client = ctl.connect()) {
            run(client, ctl);
        }
        return 0;
    }

    abstract void run(AdminClient client, Gatewayctl ctl) throws Exception;

    /** A slot range "A-B" or "A". */
    static int[] slots(String range) {
        try {
            int dash = range.indexOf('-');
            int from = Integer.parseInt(dash < 0 ? range.trim() : range.substring(0, dash).trim());
            int to = dash < 0 ? from : Integer.parseInt(range.substring(dash + 1).trim());
            return new int[] {from, to};
        } catch (NumberFormatException e) {
            throw new UsageException("--slots: " + range + " (expected: a slot range such as 0-4095)");
        }
    }

    /** A duration written 500ms, 5s, 2m, 24h, 7d. */
    static Duration duration(String option, String text) {
        String t = text.trim();
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("d")) {
                return Duration.ofDays(Long.parseLong(t.substring(0, t.length() - 1)));
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new UsageException(option + ": " + text + " (expected: a duration such as 500ms, 5s, 2m, 24h, 7d)");
    }

    static long uid(String text) {
        try {
            return Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw new UsageException("uid: " + text + " (expected: an unsigned 64-bit integer)");
        }
    }
}
