package io.cellgate.server.config;

import java.util.Set;

/**
 * One server-side dye rule (config {@code dye.rules}): which logins it matches, and what their
 * connections get. The gateway decides who is dyed; a client's own dye counts only where a rule says
 * so. Rules are tried in order; the first that matches a login applies to its connection.
 *
 * @param tag         the dye of matching connections; null when the rule dyes nothing by itself
 * @param uids        uids that match; with {@code uidFrom..uidTo}, a uid matches when it is in either;
 *                    both empty: any uid
 * @param uidFrom     first uid of the range (unsigned); with {@code uidTo}, {@code -1..0} when there is none
 * @param uidTo       last uid of the range (unsigned, inclusive)
 * @param devices     {@code Login.device} values that match; empty: any
 * @param appVersions {@code Login.app_version} values that match; empty: any
 * @param clientDye   a matching client's own dye (login or request) is honoured, in place of {@code tag}
 * @param readSet     the set dyed READ commands go to while it is UP; null: the nearest set as usual
 * @param writeSet    the set that holds these users' data: dyed WRITE commands go there while it is UP
 *                    (and its city's writes are not forbidden); null: the write point as usual
 */
public record DyeRule(String tag, Set<Long> uids, long uidFrom, long uidTo, Set<String> devices, Set<String> appVersions,
                      boolean clientDye, String readSet, String writeSet) {
    /** What a tag may be: it travels to the AOs in a header and into the access log. */
    public static final java.util.regex.Pattern TAG = java.util.regex.Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    public DyeRule {
        uids = Set.copyOf(uids);
        devices = Set.copyOf(devices);
        appVersions = Set.copyOf(appVersions);
    }

    /** True when the rule has a uid range. */
    public boolean hasRange() {
        return Long.compareUnsigned(uidFrom, uidTo) <= 0;
    }

    /** Whether a login with these fields matches the rule. */
    public boolean matches(long uid, String device, String appVersion) {
        boolean anyUid = uids.isEmpty() && !hasRange();
        boolean uidMatches = anyUid || uids.contains(uid)
                || (hasRange() && Long.compareUnsigned(uid, uidFrom) >= 0 && Long.compareUnsigned(uid, uidTo) <= 0);
        return uidMatches && (devices.isEmpty() || devices.contains(device))
                && (appVersions.isEmpty() || appVersions.contains(appVersion));
    }
}
