package io.cellgate.route;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.agrona.collections.Long2LongHashMap;

/**
 * An immutable snapshot of the routes: the sets, uid to slot to write-point set, per-user overrides,
 * write forbids, and the precomputed read preferences of this gateway's location.
 *
 * <p>Lookups ({@link #resolve}) allocate nothing and take no lock: arrays and an Agrona primitive map
 * that are never written after construction, published by {@link RouteEngine} through a volatile
 * field. Set results are indexes into {@link #sets()}; negative results are {@link #NO_ROUTE} and
 * {@link #WRITE_FORBIDDEN}.
 */
public final class RouteTable {
    /** No set can serve the request. */
    public static final int NO_ROUTE = -1;
    /** The request is a write and writes are forbidden for the user now. */
    public static final int WRITE_FORBIDDEN = -2;

    private static final long NO_OVERRIDE = -1L;

    private final long epoch;
    private final long createdAtMillis;
    private final Locality locality;
    private final String localCity;
    private final String localIdc;
    private final List<CellSet> sets;
    private final CellSet[] setArray;
    private final Map<String, Integer> indexByName;
    private final int[] slotToSet;
    private final Long2LongHashMap overrides;
    /**
     * A one-hash filter of the overridden uids, by bits 32-63 of their slot hash, at least 16 bits per
     * override: a lookup whose bit is clear (all but a few percent of users without an override) skips the
     * map, whose probe is a cache miss once it holds thousands. Bits 32-63 are not the slot's (the low bits),
     * so users of one slot spread over the filter.
     */
    private final long[] overrideFilter;
    private final int overrideFilterMask;
    private final long[] forbiddenSlots;
    /** Revoked users: uid to the Unix second their revocation ends. */
    private final Long2LongHashMap revocations;
    private final Set<String> forbiddenCities;
    /** City to the epoch at which its writes were last forbidden (kept after they are allowed again). */
    private final Map<String, Long> fenceEpochs;
    private final boolean[] writeForbiddenBySet;
    private final long[] fenceEpochBySet;
    private final boolean[] otherCityBySet;
    private final int[][] readTiers;
    private final int[][] cityPeersBySet;
    private final long[] setSeeds;
    private final String centerSetName;
    private final int centerSet;
    /** The city switch under way or last made; null when there was none. */
    private final CitySwitch citySwitch;

    private RouteTable(Builder b, long epoch) {
        this.epoch = epoch;
        this.createdAtMillis = System.currentTimeMillis();
        this.locality = b.locality;
        this.localCity = b.locality.city();
        this.localIdc = b.locality.idc();
        this.sets = List.copyOf(b.sets);
        this.setArray = sets.toArray(new CellSet[0]);
        this.indexByName = Map.copyOf(b.indexByName);
        this.slotToSet = b.slotToSet.clone();
        this.overrides = new Long2LongHashMap(b.overrides);
        int filterBits = Integer.highestOneBit((int) Math.max(64, Math.min(1 << 30, b.overrides.size() * 16L)) * 2 - 1);
        this.overrideFilter = new long[filterBits >>> 6];
        this.overrideFilterMask = filterBits - 1;
        b.overrides.forEachLong((uid, set) -> {
            int bit = filterBit(SlotHash.fmix64(uid));
            overrideFilter[bit >>> 6] |= 1L << bit;
        });
        this.forbiddenSlots = b.forbiddenSlots.clone();
        this.revocations = new Long2LongHashMap(b.revocations);
        this.forbiddenCities = Set.copyOf(b.forbiddenCities);
        Map<String, Long> fences = new java.util.TreeMap<>(b.fenceEpochs);
        for (String city : b.fencePending) {
            fences.put(city, epoch);
        }
        this.fenceEpochs = Collections.unmodifiableMap(fences);
        this.centerSetName = b.centerSetName;
        this.centerSet = b.centerSetName == null ? -1 : indexOf(b.centerSetName);
        this.citySwitch = b.citySwitch == null || b.citySwitch.forbidEpoch() > 0 ? b.citySwitch : b.citySwitch.atEpoch(epoch);

        int n = setArray.length;
        this.writeForbiddenBySet = new boolean[n];
        this.fenceEpochBySet = new long[n];
        this.otherCityBySet = new boolean[n];
        this.setSeeds = new long[n];
        List<Integer> sameIdc = new ArrayList<>();
        List<Integer> sameCity = new ArrayList<>();
        List<Integer> otherCities = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CellSet s = setArray[i];
            writeForbiddenBySet[i] = forbiddenCities.contains(s.city());
            fenceEpochBySet[i] = fenceEpochs.getOrDefault(s.city(), 0L);
            otherCityBySet[i] = !s.city().equals(localCity);
            setSeeds[i] = seedOf(s.name());
            if (s.state() != SetState.UP) {
                continue;
            }
            if (s.city().equals(localCity)) {
                boolean idcFirst = locality.readPreference() == ReadPreference.NEAREST && s.idc().equals(localIdc);
                (idcFirst ? sameIdc : sameCity).add(i);
            } else if (locality.readPreference() != ReadPreference.CITY_ONLY) {
                otherCities.add(i);
            }
        }
        this.readTiers = new int[][] {toArray(sameIdc), toArray(sameCity), toArray(otherCities)};
        this.cityPeersBySet = new int[n][];
        for (int i = 0; i < n; i++) {
            List<Integer> peers = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                if (j != i && setArray[j].state() == SetState.UP && setArray[j].city().equals(setArray[i].city())) {
                    peers.add(j);
                }
            }
            cityPeersBySet[i] = toArray(peers);
        }
    }

    /** Starts a table for a gateway in {@code localCity} / {@code localIdc}. */
    public static Builder builder(String localCity, String localIdc, int slotCount) {
        return new Builder(Locality.of(localCity, localIdc), slotCount);
    }

    /** Starts a table for a gateway at {@code locality}. */
    public static Builder builder(Locality locality, int slotCount) {
        return new Builder(locality, slotCount);
    }

    /**
     * Where a request of {@code routeClass} for {@code uid} goes.
     *
     * @return an index into {@link #sets()}, or {@link #NO_ROUTE} / {@link #WRITE_FORBIDDEN}
     */
    public int resolve(long uid, RouteClass routeClass, WriteFailover failover) {
        switch (routeClass) {
            case WRITE:
                return resolveWrite(uid, failover);
            case READ:
                return resolveRead(uid);
            case CENTER:
                if (centerSet < 0) {
                    return NO_ROUTE;
                }
                // The center set takes writes too: a forbidden city forbids them like any write.
                if (writeForbiddenBySet[centerSet]) {
                    return WRITE_FORBIDDEN;
                }
                return setArray[centerSet].state() == SetState.DOWN ? NO_ROUTE : centerSet;
            default:
                throw new AssertionError(routeClass);
        }
    }

    /** The write-point set of {@code uid} as the data layer has it: override, else its slot's set. */
    public int writePointOf(long uid) {
        long hash = SlotHash.fmix64(uid);
        return writePointOf(uid, hash, SlotHash.slotOfHash(hash, slotToSet.length));
    }

    private int filterBit(long hash) {
        return (int) (hash >>> 32) & overrideFilterMask;
    }

    private int writePointOf(long uid, long hash, int slot) {
        int bit = filterBit(hash);
        if ((overrideFilter[bit >>> 6] & (1L << bit)) != 0) {
            long override = overrides.get(uid);
            if (override != NO_OVERRIDE) {
                return (int) override;
            }
        }
        return slotToSet[slot];
    }

    private int resolveWrite(long uid, WriteFailover failover) {
        long hash = SlotHash.fmix64(uid);
        int slot = SlotHash.slotOfHash(hash, slotToSet.length);
        if ((forbiddenSlots[slot >>> 6] & (1L << slot)) != 0) {
            return WRITE_FORBIDDEN;
        }
        int target = writePointOf(uid, hash, slot);
        // A forbidden city answers first: during a city switch its writes wait ("retry later"), whatever
        // the state of the set (a failover peer is in the same city anyway).
        if (writeForbiddenBySet[target]) {
            return WRITE_FORBIDDEN;
        }
        if (setArray[target].state() == SetState.DOWN) {
            if (failover != WriteFailover.PEER) {
                return NO_ROUTE;
            }
            target = rendezvous(slot, cityPeersBySet[target]);
            if (target < 0) {
                return NO_ROUTE;
            }
        }
        return target;
    }

    /**
     * The nearest UP set for a READ of {@code uid} other than {@code excluded}: where a failed read is
     * retried. {@link #NO_ROUTE} when there is none.
     */
    public int resolveReadExcluding(long uid, int excluded) {
        long h = SlotHash.fmix64(uid ^ 0x5DEECE66DL);
        for (int[] tier : readTiers) {
            int n = 0;
            for (int s : tier) {
                if (s != excluded) {
                    n++;
                }
            }
            if (n == 0) {
                continue;
            }
            int k = (int) Long.remainderUnsigned(h, n);
            for (int s : tier) {
                if (s != excluded && k-- == 0) {
                    return s;
                }
            }
        }
        return NO_ROUTE;
    }

    private int resolveRead(long uid) {
        long h = SlotHash.fmix64(uid ^ 0x5DEECE66DL);
        for (int[] tier : readTiers) {
            if (tier.length > 0) {
                return tier[(int) Long.remainderUnsigned(h, tier.length)];
            }
        }
        return NO_ROUTE;
    }

    /** Highest random weight: each slot picks the candidate with the largest hash of (slot, set). */
    private int rendezvous(int slot, int[] candidates) {
        int best = -1;
        long bestScore = 0;
        for (int candidate : candidates) {
            long score = SlotHash.fmix64(slot * 0x9E3779B97F4A7C15L ^ setSeeds[candidate]);
            if (best < 0 || Long.compareUnsigned(score, bestScore) > 0) {
                best = candidate;
                bestScore = score;
            }
        }
        return best;
    }

    public int slotOf(long uid) {
        return SlotHash.slotOf(uid, slotToSet.length);
    }

    public long epoch() {
        return epoch;
    }

    /** True when {@code other} holds the same routes (sets, slots, overrides, forbids), whatever its epoch. */
    public boolean sameRoutes(RouteTable other) {
        List<String> mine = RouteCodec.encode(this);
        List<String> theirs = RouteCodec.encode(other);
        return mine.subList(1, mine.size()).equals(theirs.subList(1, theirs.size()));
    }

    /** This table in the store's text form (see {@link #decode}): one item per line. */
    public String encode() {
        return String.join("\n", RouteCodec.encode(this)) + "\n";
    }

    /**
     * Reads a table from {@link #encode()}'s text for a gateway at {@code locality}.
     *
     * @throws IllegalArgumentException when the text is not a complete table
     */
    public static RouteTable decode(String text, Locality locality) {
        try {
            return RouteCodec.decode(text.lines().filter(l -> !l.isBlank()).toList(), locality);
        } catch (RouteException | IndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException("not a route table: " + e.getMessage(), e);
        }
    }

    /** Wall-clock time this snapshot was built, for its age in status and metrics. */
    public long createdAtMillis() {
        return createdAtMillis;
    }

    public String localCity() {
        return localCity;
    }

    public String localIdc() {
        return localIdc;
    }

    public Locality locality() {
        return locality;
    }

    public int slotCount() {
        return slotToSet.length;
    }

    /** All sets; a set's index in this list is what {@link #resolve} returns. */
    public List<CellSet> sets() {
        return sets;
    }

    /** True when set {@code index} lies in another city than the gateway: the request crosses cities. */
    public boolean crossesCity(int index) {
        return otherCityBySet[index];
    }

    public CellSet set(int index) {
        return setArray[index];
    }

    /** The index of the set named {@code name}, or -1. */
    public int indexOf(String name) {
        Integer index = indexByName.get(name);
        return index == null ? -1 : index;
    }

    /** The write-point set index of {@code slot}, ignoring overrides. */
    public int setOfSlot(int slot) {
        return slotToSet[slot];
    }

    public int overrideCount() {
        return overrides.size();
    }

    /** The set index of {@code uid}'s override, or -1 when it has none. */
    public int overrideOf(long uid) {
        long set = overrides.get(uid);
        return set == NO_OVERRIDE ? -1 : (int) set;
    }

    /** Calls {@code action} with (uid, set index) for every override. Not for the hot path. */
    public void forEachOverride(java.util.function.BiConsumer<Long, Integer> action) {
        overrides.forEachLong((uid, set) -> action.accept(uid, (int) set));
    }

    public boolean isSlotWriteForbidden(int slot) {
        return (forbiddenSlots[slot >>> 6] & (1L << slot)) != 0;
    }

    public Set<String> forbiddenCities() {
        return forbiddenCities;
    }

    /** The Unix second until which {@code uid} is revoked (may not log in); 0 when it is not. */
    public long revokedUntil(long uid) {
        return revocations.get(uid);
    }

    public int revocationCount() {
        return revocations.size();
    }

    /** Calls {@code action} with (uid, until) for every revocation. Not for the hot path. */
    public void forEachRevocation(java.util.function.BiConsumer<Long, Long> action) {
        revocations.forEachLong(action::accept);
    }

    /**
     * Each city's fence: the epoch at which its writes were last forbidden (a city switch away from it
     * starts so), kept after its writes are allowed again. A write dispatched to the city under routes
     * older than its fence comes from a gateway that missed the switch; AOs refuse it (the ao-fence
     * module). Cities never forbidden have none.
     */
    public Map<String, Long> fenceEpochs() {
        return fenceEpochs;
    }

    /** True when writes to set {@code index} are forbidden now (its city is). */
    public boolean isWriteForbidden(int index) {
        return writeForbiddenBySet[index];
    }

    /** The fence of set {@code index}'s city (see {@link #fenceEpochs()}); 0 when it has none. */
    public long fenceEpoch(int index) {
        return fenceEpochBySet[index];
    }

    public String centerSetName() {
        return centerSetName;
    }

    /** The city switch under way or last made (see {@link CitySwitch}); null when there was none. */
    public CitySwitch citySwitch() {
        return citySwitch;
    }

    /**
     * This table with {@code changes} applied, at {@code epoch}: the engine's next snapshot, and what a
     * gateway that takes up another's batch builds (the same table as the writer's).
     *
     * @throws RouteException when a change is invalid
     */
    public RouteTable applied(List<? extends RouteChange> changes, long epoch) {
        Builder builder = toBuilder();
        for (RouteChange change : changes) {
            builder.apply(change);
        }
        return builder.build(epoch);
    }

    /** A builder holding a copy of this table, for the next snapshot. */
    public Builder toBuilder() {
        Builder b = new Builder(locality, slotToSet.length);
        for (CellSet s : sets) {
            b.addSet(s);
        }
        System.arraycopy(slotToSet, 0, b.slotToSet, 0, slotToSet.length);
        // forEachLong, not putAll: Agrona's maps reuse one iterator per map, so two threads copying the same
        // snapshot through iterators would corrupt each other's walk. forEachLong reads the arrays only.
        overrides.forEachLong(b.overrides::put);
        System.arraycopy(forbiddenSlots, 0, b.forbiddenSlots, 0, forbiddenSlots.length);
        b.forbiddenCities.addAll(forbiddenCities);
        revocations.forEachLong(b.revocations::put);
        b.fenceEpochs.putAll(fenceEpochs);
        b.centerSetName = centerSetName;
        b.citySwitch = citySwitch;
        return b;
    }

    @Override
    public String toString() {
        return "RouteTable{epoch=" + epoch + ", sets=" + sets.size() + ", slots=" + slotToSet.length
                + ", overrides=" + overrides.size() + '}';
    }

    private static long seedOf(String name) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < name.length(); i++) {
            h = (h ^ name.charAt(i)) * 0x100000001b3L;
        }
        return SlotHash.fmix64(h);
    }

    private static int[] toArray(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Mutable, single-threaded builder of the next snapshot. */
    public static final class Builder {
        private final Locality locality;
        private final List<CellSet> sets = new ArrayList<>();
        private final Map<String, Integer> indexByName = new HashMap<>();
        private final int[] slotToSet;
        private final Long2LongHashMap overrides = new Long2LongHashMap(NO_OVERRIDE);
        private final Long2LongHashMap revocations = new Long2LongHashMap(0);
        private final long[] forbiddenSlots;
        private final Set<String> forbiddenCities = new LinkedHashSet<>();
        private final Map<String, Long> fenceEpochs = new HashMap<>();
        /** Cities forbidden by this builder's changes: their fence becomes the epoch the table is built at. */
        private final Set<String> fencePending = new LinkedHashSet<>();
        private String centerSetName;
        private CitySwitch citySwitch;

        private Builder(Locality locality, int slotCount) {
            if (slotCount <= 0 || slotCount > (1 << 24)) {
                throw new RouteException("slots: " + slotCount + " (expected: 1..16777216)");
            }
            this.locality = locality;
            this.slotToSet = new int[slotCount];
            Arrays.fill(slotToSet, -1);
            this.forbiddenSlots = new long[(slotCount + 63) >>> 6];
        }

        public Builder addSet(CellSet set) {
            if (indexByName.putIfAbsent(set.name(), sets.size()) != null) {
                throw new RouteException("set " + set.name() + ": defined twice (expected: unique set names)");
            }
            sets.add(set);
            return this;
        }

        public Builder centerSet(String name) {
            if (name != null) {
                requireSet(name);
            }
            this.centerSetName = name;
            return this;
        }

        public Builder apply(RouteChange change) {
            if (change instanceof RouteChange.MoveSlots c) {
                requireSlots(c.fromSlot(), c.toSlot());
                Arrays.fill(slotToSet, c.fromSlot(), c.toSlot() + 1, requireSet(c.set()));
            } else if (change instanceof RouteChange.SetOverride c) {
                overrides.put(c.uid(), requireSet(c.set()));
            } else if (change instanceof RouteChange.ClearOverride c) {
                overrides.remove(c.uid());
            } else if (change instanceof RouteChange.ForbidSlots c) {
                requireSlots(c.fromSlot(), c.toSlot());
                for (int slot = c.fromSlot(); slot <= c.toSlot(); slot++) {
                    if (c.forbidden()) {
                        forbiddenSlots[slot >>> 6] |= 1L << slot;
                    } else {
                        forbiddenSlots[slot >>> 6] &= ~(1L << slot);
                    }
                }
            } else if (change instanceof RouteChange.ForbidCity c) {
                if (sets.stream().noneMatch(s -> s.city().equals(c.city()))) {
                    throw new RouteException("city: " + c.city() + " (expected: a city of a known set)");
                }
                if (c.forbidden()) {
                    if (forbiddenCities.add(c.city())) {
                        fencePending.add(c.city());
                    }
                } else {
                    forbiddenCities.remove(c.city());
                }
            } else if (change instanceof RouteChange.RevokeUser c) {
                if (c.untilEpochSeconds() == 0) {
                    revocations.remove(c.uid());
                } else {
                    revocations.put(c.uid(), c.untilEpochSeconds());
                }
            } else if (change instanceof RouteChange.SetSetState c) {
                int index = requireSet(c.set());
                sets.set(index, sets.get(index).withState(c.state()));
            } else if (change instanceof RouteChange.SetEndpoints c) {
                int index = requireSet(c.set());
                sets.set(index, sets.get(index).withEndpoints(c.endpoints()));
            } else if (change instanceof RouteChange.SetServiceEndpoints c) {
                int index = requireSet(c.set());
                sets.set(index, sets.get(index).withServiceEndpoints(c.service(), c.endpoints()));
            } else if (change instanceof RouteChange.RecordCitySwitch c) {
                citySwitch = c.citySwitch();
            } else {
                throw new AssertionError(change);
            }
            return this;
        }

        /** Sets {@code city}'s fence to {@code epoch} as stored (see {@link RouteTable#fenceEpochs()}). */
        public Builder fence(String city, long epoch) {
            if (epoch <= 0) {
                throw new RouteException("fence " + city + " " + epoch + " (expected: an epoch > 0)");
            }
            fencePending.remove(city);
            fenceEpochs.put(city, epoch);
            return this;
        }

        /**
         * Keeps every fence of {@code older} that is higher than this builder's: fences only rise, so a
         * table that replaces another (a reload, a restore) never lowers one.
         */
        public Builder keepFences(RouteTable older) {
            older.fenceEpochs().forEach((city, epoch) -> fenceEpochs.merge(city, epoch, Math::max));
            if (citySwitch == null) {
                // The record of the last switch is what rollback and an unfinished switch need: a table
                // that replaces another (a reload) keeps it unless it brings its own.
                citySwitch = older.citySwitch();
            }
            return this;
        }

        /** Validates and builds; every slot must have a write point. Revocations that have ended are dropped. */
        public RouteTable build(long epoch) {
            long now = System.currentTimeMillis() / 1000;
            revocations.entrySet().removeIf(e -> e.getValue() <= now);
            if (sets.isEmpty()) {
                throw new RouteException("sets: none (expected: at least one set)");
            }
            for (int slot = 0; slot < slotToSet.length; slot++) {
                if (slotToSet[slot] < 0) {
                    throw new RouteException("slot " + slot + ": no write-point set (expected: every slot 0.."
                            + (slotToSet.length - 1) + " assigned)");
                }
            }
            return new RouteTable(this, epoch);
        }

        private int requireSet(String name) {
            Integer index = indexByName.get(name);
            if (index == null) {
                throw new RouteException("set: " + name + " (expected: one of " + Collections.unmodifiableSet(
                        new LinkedHashSet<>(indexByName.keySet())) + ")");
            }
            return index;
        }

        private void requireSlots(int from, int to) {
            if (from < 0 || to >= slotToSet.length || from > to) {
                throw new RouteException("slots: " + from + "-" + to + " (expected: a range within 0-"
                        + (slotToSet.length - 1) + ")");
            }
        }
    }
}
