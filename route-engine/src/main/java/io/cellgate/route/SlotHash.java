package io.cellgate.route;

/**
 * uid to slot: {@code slot = unsignedRemainder(fmix64(uid), slotCount)}, where fmix64 is the 64-bit
 * finalizer of MurmurHash3. Stable across versions and platforms: the data layer's shard map and
 * every client that wants to predict a route compute the same slot. docs/PROTOCOL.md shows it.
 */
public final class SlotHash {
    /** The default number of slots. */
    public static final int DEFAULT_SLOT_COUNT = 16384;

    private SlotHash() {
    }

    public static int slotOf(long uid, int slotCount) {
        return slotOfHash(fmix64(uid), slotCount);
    }

    /** The slot of a uid whose {@link #fmix64} is {@code h}. */
    public static int slotOfHash(long h, int slotCount) {
        // For a power of two (the default 16384) the mask is the same unsigned remainder, without a
        // 64-bit division on every request.
        return (slotCount & (slotCount - 1)) == 0 ? (int) (h & (slotCount - 1)) : (int) Long.remainderUnsigned(h, slotCount);
    }

    /** MurmurHash3's 64-bit finalizer: a bijection with good avalanche. */
    public static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
