package io.cellgate.server.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The network prefix a client address belongs to, as a 64-bit key: what the storm buckets and the
 * per-address cap count by, so one source cannot spend a shared budget for everyone by spreading
 * over the addresses of its own network (an IPv6 host alone commonly holds a whole /64).
 */
final class SourcePrefix {
    private SourcePrefix() {
    }

    /** The key of {@code address}'s prefix: its first {@code v4Bits} (IPv4) or {@code v6Bits} (IPv6) bits. */
    static long key(InetAddress address, int v4Bits, int v6Bits) {
        byte[] b = address.getAddress();
        if (b.length == 4) {
            long v = ((b[0] & 0xFFL) << 24) | ((b[1] & 0xFFL) << 16) | ((b[2] & 0xFFL) << 8) | (b[3] & 0xFFL);
            long mask = v4Bits == 0 ? 0 : (0xFFFFFFFFL << (32 - v4Bits)) & 0xFFFFFFFFL;
            return (v & mask) | (4L << 56) | ((long) v4Bits << 48);
        }
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | (b[i] & 0xFFL);
            lo = (lo << 8) | (b[8 + i] & 0xFFL);
        }
        hi &= v6Bits >= 64 ? -1L : -1L << (64 - v6Bits);
        lo &= v6Bits >= 128 ? -1L : v6Bits <= 64 ? 0 : -1L << (128 - v6Bits);
        // Fold to 64 bits; a collision only makes two prefixes share a budget.
        return io.cellgate.route.SlotHash.fmix64(hi * 0x9E3779B97F4A7C15L ^ lo ^ v6Bits) | (6L << 60);
    }

    /** {@code address} as an operator reads it: an IPv4 address, or an IPv6 prefix such as {@code 2001:db8:0:1:0:0:0:0/64}. */
    static String text(InetAddress address, int v6Bits) {
        if (address instanceof Inet4Address || v6Bits >= 128) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress().clone();
        for (int bit = v6Bits; bit < 128; bit++) {
            b[bit >>> 3] &= (byte) ~(0x80 >>> (bit & 7));
        }
        try {
            return InetAddress.getByAddress(b).getHostAddress() + "/" + v6Bits;
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
