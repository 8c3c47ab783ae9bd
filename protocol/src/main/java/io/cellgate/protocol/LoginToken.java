package io.cellgate.protocol;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Login tokens, two versions (docs/PROTOCOL.md documents both for client authors):
 * <ul>
 *   <li>{@code v2.<kid>.<uid>.<issued>.<expiry>.<mac>}: {@code kid} names the key that signed it
 *       ({@code [A-Za-z0-9_-]{1,16}}), so the gateway can accept several keys while a new one rolls out;
 *       {@code issued} and {@code expiry} are decimal Unix seconds; {@code mac} is the unpadded base64url
 *       of HMAC-SHA256(key, "v2.<kid>.<uid>.<issued>.<expiry>").</li>
 *   <li>{@code v1.<uid>.<expiry>.<mac>}: one secret, no key id; {@code mac} is HMAC-SHA256(secret,
 *       "v1.<uid>.<expiry>").</li>
 * </ul>
 * {@code uid} is the decimal unsigned user id. A maximum lifetime, when set, refuses tokens that live
 * longer: {@code expiry - issued} for v2, {@code expiry - now} for v1.
 *
 * <p>An instance holds one {@link Mac} per key and is therefore not thread-safe: keep one per thread
 * (the gateway keeps one per event loop).
 */
public final class LoginToken {
    private static final String V1 = "v1";
    private static final String V2 = "v2";
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,16}");
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    /** Why a token was refused; {@link #OK} when it was accepted. */
    public enum Verdict { OK, MALFORMED, WRONG_UID, EXPIRED, BAD_SIGNATURE, UNKNOWN_KEY, TOO_LONG }

    /** The v1 secret's MAC; null when v1 tokens are not accepted. */
    private final Mac v1;
    /** v2 keys by id, the signing key first. */
    private final Map<String, Mac> keys = new LinkedHashMap<>();
    private final long maxLifetimeSeconds;
    /** The expiry of the token {@link #verify} accepted last. */
    private long lastExpiry;

    /** v1 tokens signed with {@code secret}, any lifetime. */
    public LoginToken(byte[] secret) {
        this(secret, Map.of(), 0);
    }

    /**
     * @param v1Secret           the v1 secret; null: v1 tokens are refused ({@code UNKNOWN_KEY})
     * @param keys               v2 keys by id, in order: the first signs what {@link #issue} mints, all verify
     * @param maxLifetimeSeconds the longest a token may live; 0: no limit
     */
    public LoginToken(byte[] v1Secret, Map<String, byte[]> keys, long maxLifetimeSeconds) {
        if (v1Secret == null && keys.isEmpty()) {
            throw new IllegalArgumentException("token keys: none (expected: a v1 secret or at least one v2 key)");
        }
        this.v1 = v1Secret == null ? null : mac("token secret", v1Secret);
        keys.forEach((id, secret) -> {
            if (!KEY_ID.matcher(id).matches()) {
                throw new IllegalArgumentException("token key id: " + id + " (expected: 1-16 of [A-Za-z0-9_-])");
            }
            this.keys.put(id, mac("token key " + id, secret));
        });
        if (maxLifetimeSeconds < 0) {
            throw new IllegalArgumentException("max token lifetime: " + maxLifetimeSeconds + " s (expected: >= 0)");
        }
        this.maxLifetimeSeconds = maxLifetimeSeconds;
    }

    private static Mac mac(String what, byte[] secret) {
        if (secret == null || secret.length < 16) {
            throw new IllegalArgumentException(what + ": " + (secret == null ? 0 : secret.length) + " bytes (expected: at least 16)");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /**
     * Mints a token for {@code uid} that expires at {@code expiryEpochSeconds}: v2 with the first key
     * (issued now) when there are v2 keys, else v1.
     */
    public String issue(long uid, long expiryEpochSeconds) {
        if (!keys.isEmpty()) {
            return issue(keys.keySet().iterator().next(), uid, System.currentTimeMillis() / 1000, expiryEpochSeconds);
        }
        String payload = V1 + '.' + Long.toUnsignedString(uid) + '.' + expiryEpochSeconds;
        return payload + '.' + B64.encodeToString(sign(v1, payload));
    }

    /** Mints a v2 token with key {@code keyId}. */
    public String issue(String keyId, long uid, long issuedEpochSeconds, long expiryEpochSeconds) {
        Mac mac = keys.get(keyId);
        if (mac == null) {
            throw new IllegalArgumentException("token key id: " + keyId + " (expected: one of " + keys.keySet() + ")");
        }
        String payload = V2 + '.' + keyId + '.' + Long.toUnsignedString(uid) + '.' + issuedEpochSeconds + '.' + expiryEpochSeconds;
        return payload + '.' + B64.encodeToString(sign(mac, payload));
    }

    /** The expiry (Unix seconds) of the token the last {@link #verify} accepted. */
    public long lastExpiry() {
        return lastExpiry;
    }

    /** Checks {@code token} for {@code uid} at {@code nowEpochSeconds}. */
    public Verdict verify(long uid, String token, long nowEpochSeconds) {
        if (token == null || token.length() > 256) {
            return Verdict.MALFORMED;
        }
        int lastDot = token.lastIndexOf('.');
        if (lastDot < 0) {
            return Verdict.MALFORMED;
        }
        String payload = token.substring(0, lastDot);
        String[] parts = payload.split("\\.", -1);
        boolean v2 = parts[0].equals(V2);
        if (!(v2 && parts.length == 5) && !(parts[0].equals(V1) && parts.length == 3)) {
            return Verdict.MALFORMED;
        }
        Mac mac = v2 ? keys.get(parts[1]) : v1;
        long tokenUid;
        long issued;
        long expiry;
        byte[] presented;
        try {
            tokenUid = Long.parseUnsignedLong(parts[v2 ? 2 : 1]);
            issued = v2 ? Long.parseLong(parts[3]) : nowEpochSeconds;
            expiry = Long.parseLong(parts[v2 ? 4 : 2]);
            presented = Base64.getUrlDecoder().decode(token.substring(lastDot + 1));
        } catch (IllegalArgumentException e) {
            return Verdict.MALFORMED;
        }
        if (issued < 0) {
            return Verdict.MALFORMED;
        }
        if (mac == null) {
            return Verdict.UNKNOWN_KEY;
        }
        // Signature first, in constant time, so a forged token learns nothing from the other checks.
        if (!MessageDigest.isEqual(sign(mac, payload), presented)) {
            return Verdict.BAD_SIGNATURE;
        }
        if (tokenUid != uid) {
            return Verdict.WRONG_UID;
        }
        if (expiry <= nowEpochSeconds) {
            return Verdict.EXPIRED;
        }
        if (maxLifetimeSeconds > 0 && expiry - issued > maxLifetimeSeconds) {
            return Verdict.TOO_LONG;
        }
        lastExpiry = expiry;
        return Verdict.OK;
    }

    private static byte[] sign(Mac mac, String payload) {
        return mac.doFinal(payload.getBytes(StandardCharsets.US_ASCII));
    }
}
