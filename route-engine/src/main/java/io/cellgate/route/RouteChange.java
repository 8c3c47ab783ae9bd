package io.cellgate.route;

import java.util.List;
import java.util.Objects;

/**
 * One change to the route table. A batch of changes is applied by {@link RouteEngine#apply} as one
 * new snapshot with one new epoch: readers see all of the batch or none of it.
 */
public sealed interface RouteChange {

    /** Slots {@code fromSlot..toSlot} (inclusive) get {@code set} as their write point. */
    record MoveSlots(int fromSlot, int toSlot, String set) implements RouteChange {
        public MoveSlots {
            Objects.requireNonNull(set, "set");
        }
    }

    /** User {@code uid}'s write point is {@code set}, whatever its slot says (its data moved). */
    record SetOverride(long uid, String set) implements RouteChange {
        public SetOverride {
            Objects.requireNonNull(set, "set");
        }
    }

    /** User {@code uid} follows its slot again. */
    record ClearOverride(long uid) implements RouteChange {
    }

    /** Writes of users in slots {@code fromSlot..toSlot} are refused (or allowed again). */
    record ForbidSlots(int fromSlot, int toSlot, boolean forbidden) implements RouteChange {
    }

    /** Writes whose write point lies in {@code city} are refused (or allowed again). */
    record ForbidCity(String city, boolean forbidden) implements RouteChange {
        public ForbidCity {
            Objects.requireNonNull(city, "city");
        }
    }

    /** Sets the operational state of {@code set}. */
    record SetSetState(String set, SetState state) implements RouteChange {
        public SetSetState {
            Objects.requireNonNull(set, "set");
            Objects.requireNonNull(state, "state");
        }
    }

    /**
     * Replaces the endpoints of one AO {@code service} of {@code set}; an empty list makes the
     * service use the set's endpoints again.
     */
    record SetServiceEndpoints(String set, String service, List<String> endpoints) implements RouteChange {
        public SetServiceEndpoints {
            Objects.requireNonNull(set, "set");
            Objects.requireNonNull(service, "service");
            endpoints = List.copyOf(endpoints);
        }
    }

    /**
     * User {@code uid} may not log in until {@code untilEpochSeconds} (Unix seconds), and its open
     * sessions are closed; 0 lifts a revocation. Kept in the route table so that a fleet sharing the
     * table applies it everywhere.
     */
    record RevokeUser(long uid, long untilEpochSeconds) implements RouteChange {
        public RevokeUser {
            if (untilEpochSeconds < 0) {
                throw new RouteException("revoke " + Long.toUnsignedString(uid) + ": until " + untilEpochSeconds
                        + " (expected: Unix seconds, or 0 to lift it)");
            }
        }
    }

    /** Replaces the AO endpoints of {@code set}. */
    record SetEndpoints(String set, List<String> endpoints) implements RouteChange {
        public SetEndpoints {
            Objects.requireNonNull(set, "set");
            endpoints = List.copyOf(endpoints);
        }
    }

    /**
     * Records the city switch under way or last made (see {@link CitySwitch}); a {@code forbidEpoch} of
     * 0 becomes the epoch this change is applied at.
     */
    record RecordCitySwitch(CitySwitch citySwitch) implements RouteChange {
        public RecordCitySwitch {
            Objects.requireNonNull(citySwitch, "citySwitch");
        }
    }
}
