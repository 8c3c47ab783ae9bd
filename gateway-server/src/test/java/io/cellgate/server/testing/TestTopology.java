package io.cellgate.server.testing;

import io.cellgate.protocol.LoginToken;
import io.cellgate.route.SlotHash;
import io.cellgate.server.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

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

    /** The gateway's YAML with the AO addresses of the two sets and extra top-level text. */
    public static String yaml(String szEndpoint, String shEndpoint, String channelMode, String loginTimeout,
                              String heartbeat) {
        return """
                gateway:
                  city: sz
                  idc: sz-1
                  transport: auto
                  event-loop-threads: 2
                listen:
                  client: 127.0.0.1:0
                login:
                  token-secret: %s
                  timeout: %s
                  heartbeat-interval: %s
                limits:
                  max-frame-bytes: 65536
                  max-in-flight-per-connection: 2000
                topology:
                  sets:
                    - {name: sz-a, city: sz, idc: sz-1, endpoints: [%s]}
                    - {name: sh-a, city: sh, idc: sh-1, endpoints: [%s]}
                routes:
                  slots: 16384
                  write-points:
                    - {slots: 0-8191, set: sz-a}
                    - {slots: 8192-16383, set: sh-a}
                commands:
                  - {cmd: 1, method: test.Ao/Echo, route: READ, priority: P1, timeout: 2s}
                  - {cmd: 2, method: test.Ao/Echo, route: WRITE, priority: P0, timeout: 2s}
                  - {cmd: 3, method: test.Ao/Echo, route: READ, priority: P3, rate: 1, burst: 1}
                  - {cmd: 4, method: test.Ao/Fail, route: READ}
                  - {cmd: 5, method: test.Ao/Slow, route: READ, timeout: 200ms}
                upstream:
                  channel-mode: %s
                  # Set-level failover is tested on its own (SetFailoverTest); elsewhere a set stays as configured.
                  health: {enabled: false}
                admission:
                  # Loaded test machines stall for a moment now and then; only a real overload counts.
                  max-event-loop-lag: 1s
                """.formatted(SECRET, loginTimeout, heartbeat, szEndpoint, shEndpoint, channelMode);
    }

    /**
     * {@code yaml} with {@code from} replaced by {@code to}; fails when {@code from} is not in it exactly
     * once, so that a test whose edit no longer matches the template breaks loudly instead of running
     * on a config it did not mean.
     */
    public static String edit(String yaml, String from, String to) {
        int at = yaml.indexOf(from);
        if (at < 0) {
            throw new AssertionError("config edit: " + quote(from) + " is not in the config:\n" + yaml);
        }
        if (yaml.indexOf(from, at + 1) >= 0) {
            throw new AssertionError("config edit: " + quote(from) + " is in the config more than once:\n" + yaml);
        }
        return yaml.substring(0, at) + to + yaml.substring(at + from.length());
    }

    private static String quote(String s) {
        return '"' + s.replace("\n", "\\n") + '"';
    }

    public static GatewayConfig config(String szEndpoint, String shEndpoint, String channelMode) {
        return GatewayConfig.parse(yaml(szEndpoint, shEndpoint, channelMode, "8s", "30s"), Path.of("."), name -> null);
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
