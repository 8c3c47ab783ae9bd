package io.cellgate.protocol;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Login tokens: {@code v1.<uid>.<expiry>.<mac>} where {@code uid} is the decimal unsigned user id,
 * {@code expiry} the expiry time in decimal Unix seconds, and {@code mac} the unpadded base64url of
 * HMAC-SHA256(secret, "v1.<uid>.<expiry>"). docs/PROTOCOL.md documents the format for client authors.
 *
 * <p>An instance holds one {@link Mac} and is therefore not thread-safe: keep one per thread (the
 * gateway keeps one per event loop).
 */
public final class LoginToken {
    private static final String VERSION = "v1";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    /** Why a token was refused; {@link #OK} when it was accepted. */
    public enum Verdict { OK, MALFORMED, WRONG_UID, EXPIRED, BAD_SIGNATURE }

    private final Mac mac;

    public LoginToken(byte[] secret) {
        if (secret == null || secret.length < 16) {
            throw new IllegalArgumentException("token secret: " + (secret == null ? 0 : secret.length)
                    + " bytes (expected: at least 16)");
        }
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** Mints a token for {@code uid} that expires at {@code expiryEpochSeconds}. */
    public String issue(long uid, long expiryEpochSeconds) {
        String payload = VERSION + '.' + Long.toUnsignedString(uid) + '.' + expiryEpochSeconds;
        return payload + '.' + B64.encodeToString(sign(payload));
    }

    /** Checks {@code token} for {@code uid} at {@code nowEpochSeconds}. */
    public Verdict verify(long uid, String token, long nowEpochSeconds) {
        if (token == null || token.length() > 256) {
            return Verdict.MALFORMED;
        }
        int lastDot = token.lastIndexOf('.');
        if (lastDot < 0 || !token.startsWith(VERSION + '.')) {
            return Verdict.MALFORMED;
        }
        String payload = token.substring(0, lastDot);
        int uidEnd = payload.indexOf('.', VERSION.length() + 1);
        if (uidEnd < 0) {
            return Verdict.MALFORMED;
        }
        long tokenUid;
        long expiry;
        byte[] presented;
        try {
            tokenUid = Long.parseUnsignedLong(payload.substring(VERSION.length() + 1, uidEnd));
            expiry = Long.parseLong(payload.substring(uidEnd + 1));
            presented = Base64.getUrlDecoder().decode(token.substring(lastDot + 1));
        } catch (IllegalArgumentException e) {
            return Verdict.MALFORMED;
        }
        // Signature first, in constant time, so a forged token learns nothing from the other checks.
        if (!MessageDigest.isEqual(sign(payload), presented)) {
            return Verdict.BAD_SIGNATURE;
        }
        if (tokenUid != uid) {
            return Verdict.WRONG_UID;
        }
        if (expiry <= nowEpochSeconds) {
            return Verdict.EXPIRED;
        }
        return Verdict.OK;
    }

    private byte[] sign(String payload) {
        return mac.doFinal(payload.getBytes(StandardCharsets.US_ASCII));
    }
}
