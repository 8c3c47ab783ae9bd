package io.cellgate.server.internal;

import java.util.concurrent.ThreadLocalRandom;

/**
 * W3C trace context for the gateway's hop: the {@code traceparent} header sent to the AO with each
 * call. A client's valid {@code Request.traceparent} keeps its trace id and flags, with a new span id
 * of the gateway as the parent; anything else (empty, malformed, all-zero ids, version ff) starts a new
 * trace, sampled when the request is dyed. Built with a lookup table, no regex and no formatter: it runs
 * once per request.
 */
final class TraceParent {
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    /** {@code "00-" + 32 + "-" + 16 + "-" + 2}. */
    static final int LENGTH = 55;

    private TraceParent() {
    }

    /** The traceparent to send for a request that came with {@code client} (empty when none). */
    static String forward(String client, boolean dyed) {
        char[] out = new char[LENGTH];
        out[0] = '0';
        out[1] = '0';
        out[2] = '-';
        out[35] = '-';
        out[52] = '-';
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (valid(client)) {
            client.getChars(3, 35, out, 3);
            client.getChars(53, 55, out, 53);
        } else {
            hex(random.nextLong(), out, 3);
            hex(random.nextLong() | 1, out, 19); // never all zeros
            out[53] = '0';
            out[54] = dyed ? '1' : '0';
        }
        hex(random.nextLong() | 1, out, 36);
        return new String(out);
    }

    /** The trace id (32 hex digits) of a traceparent this class made. */
    static String traceId(String traceparent) {
        return traceparent.substring(3, 35);
    }

    /** Whether {@code s} starts with a traceparent this gateway can continue. */
    static boolean valid(String s) {
        if (s.length() < LENGTH || (s.length() > LENGTH && s.charAt(LENGTH) != '-') || s.length() > 256) {
            return false;
        }
        if (s.charAt(2) != '-' || s.charAt(35) != '-' || s.charAt(52) != '-' || !hexRun(s, 0, 2) || !hexRun(s, 3, 35)
                || !hexRun(s, 36, 52) || !hexRun(s, 53, 55)) {
            return false;
        }
        if (s.startsWith("ff") || (s.startsWith("00") && s.length() != LENGTH)) {
            return false;
        }
        return !zeros(s, 3, 35) && !zeros(s, 36, 52);
    }

    private static boolean hexRun(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static boolean zeros(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }

    private static void hex(long v, char[] out, int at) {
        for (int i = 15; i >= 0; i--) {
            out[at + i] = HEX[(int) (v & 0xf)];
            v >>>= 4;
        }
    }
}
