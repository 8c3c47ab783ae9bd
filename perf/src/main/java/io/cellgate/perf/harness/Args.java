package io.cellgate.perf.harness;

import java.util.HashMap;
import java.util.Map;

/** {@code --name value} arguments with defaults; an unknown name or a missing value exits with usage. */
final class Args {
    private Args() {
    }

    static Map<String, String> parse(String[] args, Map<String, String> defaults) {
        Map<String, String> out = new HashMap<>(defaults);
        for (int i = 0; i < args.length; i++) {
            if (!defaults.containsKey(args[i]) || i + 1 >= args.length) {
                System.err.println("usage: " + String.join(" ", defaults.keySet().stream().sorted()
                        .map(k -> "[" + k + " " + defaults.get(k) + "]").toList()));
                System.exit(2);
            }
            out.put(args[i], args[++i]);
        }
        return out;
    }
}
