package io.cellgate.limit;

/** The 64-bit finalizer of MurmurHash3: a bijection with good avalanche, for bucket slots and user levels. */
final class Hashing {
    private Hashing() {
    }

    static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
