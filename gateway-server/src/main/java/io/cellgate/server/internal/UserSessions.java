package io.cellgate.server.internal;

import io.cellgate.server.config.SessionPolicy;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The logged-in connections of each user on this gateway: the index pushes, {@code users sessions}
 * and {@code users kick} look users up in, and where the duplicate-login policy is decided.
 *
 * <p>Users are spread over {@value #STRIPES} stripes by uid; each stripe is a primitive map (no boxed
 * key) from uid to the user's connections, oldest first: the {@link ClientSession} itself when the
 * user has one (the common case, no array), an array when several. A stripe's monitor is held for one
 * map operation at a time and never while writing to a connection or waiting for anything: logins of
 * one user are decided one at a time, and event loops, the push API and the admin API never wait for
 * each other beyond a map lookup.
 */
final class UserSessions {
    private static final int STRIPES = 64;
    private static final ClientSession[] NONE = new ClientSession[0];

    private final java.util.List<Long2ObjectHashMap<Object>> stripes = new java.util.ArrayList<>(STRIPES);

    /** Told when a user gets its first connection here and when it loses its last; under the user's stripe, so in order. */
    interface Presence {
        void arrived(long uid);

        void left(long uid);
    }

    private volatile Presence presence;

    /** Set once, when the fleet's session directory starts. */
    void presence(Presence presence) {
        this.presence = presence;
    }

    /** Every user with a connection here now (a copy, stripe by stripe). */
    long[] users() {
        org.agrona.collections.LongArrayList out = new org.agrona.collections.LongArrayList();
        for (Long2ObjectHashMap<Object> stripe : stripes) {
            synchronized (stripe) {
                Long2ObjectHashMap<Object>.KeyIterator it = stripe.keySet().iterator();
                while (it.hasNext()) {
                    out.addLong(it.nextLong());
                }
            }
        }
        return out.toLongArray();
    }

    UserSessions() {
        for (int i = 0; i < STRIPES; i++) {
            stripes.add(new Long2ObjectHashMap<>());
        }
    }

    private Long2ObjectHashMap<Object> stripe(long uid) {
        long h = uid * 0x9E3779B97F4A7C15L;
        return stripes.get((int) (h >>> 58)); // the top 6 bits: 64 stripes
    }

    /** What a login did to the user's other connections. */
    record Outcome(boolean admitted, ClientSession[] replaced, boolean sameDevice) {
        static final Outcome REFUSED = new Outcome(false, NONE, false);
        static final Outcome ALONE = new Outcome(true, NONE, false);
    }

    /**
     * Adds {@code session} under {@code policy}: connections of the same device go, and at the limit
     * either the oldest go or the login is refused (then nothing changes). The caller tells the replaced
     * connections; they are out of the index already.
     */
    Outcome register(ClientSession session, SessionPolicy policy) {
        Long2ObjectHashMap<Object> stripe = stripe(session.uid);
        synchronized (stripe) {
            ClientSession[] current = asArray(stripe.get(session.uid));
            if (current.length == 0) {
                stripe.put(session.uid, session);
                Presence p = presence;
                if (p != null) {
                    p.arrived(session.uid);
                }
                return Outcome.ALONE;
            }
            int sameDevice = 0;
            if (!session.deviceId.isEmpty()) {
                for (ClientSession s : current) {
                    if (s.deviceId.equals(session.deviceId)) {
                        sameDevice++;
                    }
                }
            }
            int others = current.length - sameDevice;
            int max = policy.maxPerUser();
            int over = max == 0 ? 0 : Math.max(0, others + 1 - max);
            if (over > 0 && policy.whenFull() == SessionPolicy.WhenFull.REJECT_NEW) {
                return Outcome.REFUSED;
            }
            ClientSession[] replaced = new ClientSession[sameDevice + over];
            ClientSession[] kept = new ClientSession[current.length - replaced.length + 1];
            int r = 0;
            int k = 0;
            int oldestToGo = over;
            for (ClientSession s : current) {
                boolean device = sameDevice > 0 && s.deviceId.equals(session.deviceId);
                if (device) {
                    replaced[r++] = s;
                } else if (oldestToGo > 0) {
                    oldestToGo--;
                    replaced[r++] = s;
                } else {
                    kept[k++] = s;
                }
            }
            kept[k] = session;
            stripe.put(session.uid, kept.length == 1 ? kept[0] : kept);
            return new Outcome(true, replaced, sameDevice > 0);
        }
    }

    /** Removes {@code session} (its connection closed); nothing when it is not indexed (it was replaced). */
    void unregister(ClientSession session) {
        Long2ObjectHashMap<Object> stripe = stripe(session.uid);
        synchronized (stripe) {
            Object value = stripe.get(session.uid);
            if (value == session) {
                stripe.remove(session.uid);
                Presence p = presence;
                if (p != null) {
                    p.left(session.uid);
                }
            } else if (value instanceof ClientSession[] several) {
                int i = indexOf(several, session);
                if (i < 0) {
                    return;
                }
                ClientSession[] rest = new ClientSession[several.length - 1];
                System.arraycopy(several, 0, rest, 0, i);
                System.arraycopy(several, i + 1, rest, i, rest.length - i);
                stripe.put(session.uid, rest.length == 1 ? rest[0] : rest);
            }
        }
    }

    /** The user's connections here, oldest first; empty when none. Read only: it may be the index's own array. */
    ClientSession[] of(long uid) {
        Long2ObjectHashMap<Object> stripe = stripe(uid);
        synchronized (stripe) {
            Object value = stripe.get(uid);
            // Arrays in the index are never changed in place (a change puts a new one), so sharing is safe.
            return value instanceof ClientSession[] several ? several : asArray(value);
        }
    }

    /** Users with at least one connection here. */
    int userCount() {
        int n = 0;
        for (Long2ObjectHashMap<Object> stripe : stripes) {
            synchronized (stripe) {
                n += stripe.size();
            }
        }
        return n;
    }

    private static ClientSession[] asArray(Object value) {
        if (value == null) {
            return NONE;
        }
        return value instanceof ClientSession one ? new ClientSession[] {one} : (ClientSession[]) value;
    }

    private static int indexOf(ClientSession[] sessions, ClientSession session) {
        for (int i = 0; i < sessions.length; i++) {
            if (sessions[i] == session) {
                return i;
            }
        }
        return -1;
    }
}
