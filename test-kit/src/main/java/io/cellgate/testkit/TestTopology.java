package io.cellgate.testkit;

import io.cellgate.protocol.LoginToken;
import io.cellgate.route.SlotHash;
import java.nio.charset.StandardCharsets;

/**
 * The test topology: a gateway in city {@code sz}; set {@code sz-a} (city sz) holds the write points
 * of slots 0-8191 and set {@code sh-a} (city sh) those of slots 8192-16383. Commands: 1 READ echo,
 * 2 WRITE echo, 3 READ echo limited to 1/s, 4 READ failing, 5 READ slow with a 200 ms timeout.
 */
public final class TestTopology {
    public static final String SECRET = "test-secret-0123456789abcdef";
    public static final int READ = 1;
    public static final int WRITE = 2;
    public static final int LIMITED = 3;
    public static final int FAILING = 4;
    public static final int SLOW = 5;

    private TestTopology() {
    }

    /**
     * The gateway's YAML with the AO addresses of the two sets (see {@link GatewayYaml#testTopology},
     * which changes anything else).
     */
    public static String yaml(String szEndpoint, String shEndpoint, String channelMode, String loginTimeout,
                              String heartbeat) {
        return GatewayYaml.testTopology(szEndpoint, shEndpoint).channelMode(channelMode).loginTimeout(loginTimeout)
                .heartbeat(heartbeat).build();
    }

    /**
     * {@code text} with {@code from} replaced by {@code to}; fails when {@code from} is not in it exactly
     * once, so that an edit that no longer matches its template breaks loudly instead of leaving the
     * text as it was (for tests of the config parser itself, which need malformed text).
     */
    public static String edit(String text, String from, String to) {
        int at = text.indexOf(from);
        if (at < 0) {
            throw new AssertionError("edit: " + quote(from) + " is not in the text:\n" + text);
        }
        if (text.indexOf(from, at + 1) >= 0) {
            throw new AssertionError("edit: " + quote(from) + " is in the text more than once:\n" + text);
        }
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    private static String quote(String s) {
        return '"' + s.replace("\n", "\\n") + '"';
    }

    public static String token(long uid) {
        return new LoginToken(SECRET.getBytes(StandardCharsets.UTF_8)).issue(uid, System.currentTimeMillis() / 1000 + 3600);
    }

    /** The first uid at or after {@code from} whose slot lies in {@code [lo, hi]}. */
    public static long uidInSlots(long from, int lo, int hi) {
        for (long uid = from; ; uid++) {
            int slot = SlotHash.slotOf(uid, 16384);
            if (slot >= lo && slot <= hi) {
                return uid;
            }
        }
    }
}
