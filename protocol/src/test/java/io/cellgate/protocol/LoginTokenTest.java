package io.cellgate.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LoginTokenTest {
    private final LoginToken tokens = new LoginToken("0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8));

    @Test
    void issuedTokenVerifiesForItsUidUntilExpiry() {
        String token = tokens.issue(42, 1_000);
        assertThat(token).startsWith("v1.42.1000.");
        assertThat(tokens.verify(42, token, 999)).isEqualTo(LoginToken.Verdict.OK);
        assertThat(tokens.verify(42, token, 1_000)).isEqualTo(LoginToken.Verdict.EXPIRED);
        assertThat(tokens.verify(43, token, 999)).isEqualTo(LoginToken.Verdict.WRONG_UID);
    }

    @Test
    void unsignedUidsRoundTrip() {
        String token = tokens.issue(-1L, 5_000);
        assertThat(token).startsWith("v1.18446744073709551615.5000.");
        assertThat(tokens.verify(-1L, token, 1)).isEqualTo(LoginToken.Verdict.OK);
    }

    @Test
    void tamperedOrForeignTokensAreRefused() {
        String token = tokens.issue(42, 1_000);
        String otherSecret = new LoginToken("another-secret-of-16+".getBytes(StandardCharsets.UTF_8)).issue(42, 1_000);
        assertThat(tokens.verify(42, otherSecret, 1)).isEqualTo(LoginToken.Verdict.BAD_SIGNATURE);
        assertThat(tokens.verify(42, token.replace("v1.42.1000", "v1.42.9999"), 1))
                .isEqualTo(LoginToken.Verdict.BAD_SIGNATURE);
        assertThat(tokens.verify(42, "", 1)).isEqualTo(LoginToken.Verdict.MALFORMED);
        assertThat(tokens.verify(42, "v1.x.1.AAAA", 1)).isEqualTo(LoginToken.Verdict.MALFORMED);
        assertThat(tokens.verify(42, "v1.42.1000.@@@", 1)).isEqualTo(LoginToken.Verdict.MALFORMED);
        assertThat(tokens.verify(42, null, 1)).isEqualTo(LoginToken.Verdict.MALFORMED);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void v2TokensNameTheirKeySoKeysRotateWithoutALogout() {
        LoginToken before = new LoginToken(null, java.util.Map.of("k1", bytes("first-key-0123456789")), 0);
        // The overlap: the new key signs, both verify.
        java.util.Map<String, byte[]> both = new java.util.LinkedHashMap<>();
        both.put("k2", bytes("second-key-0123456789"));
        both.put("k1", bytes("first-key-0123456789"));
        LoginToken overlap = new LoginToken(null, both, 0);
        LoginToken after = new LoginToken(null, java.util.Map.of("k2", bytes("second-key-0123456789")), 0);

        String old = before.issue("k1", 42, 100, 1_000);
        assertThat(old).startsWith("v2.k1.42.100.1000.");
        String fresh = overlap.issue(42, 1_000);
        assertThat(fresh).startsWith("v2.k2.42.");
        assertThat(overlap.verify(42, old, 500)).isEqualTo(LoginToken.Verdict.OK);
        assertThat(overlap.lastExpiry()).isEqualTo(1_000);
        assertThat(overlap.verify(42, fresh, 500)).isEqualTo(LoginToken.Verdict.OK);
        assertThat(after.verify(42, fresh, 500)).isEqualTo(LoginToken.Verdict.OK);
        assertThat(after.verify(42, old, 500)).isEqualTo(LoginToken.Verdict.UNKNOWN_KEY);
        // A v1 token needs the v1 secret; a key id in a token cannot pick another key's signature.
        assertThat(after.verify(42, tokens.issue(42, 1_000), 500)).isEqualTo(LoginToken.Verdict.UNKNOWN_KEY);
        assertThat(overlap.verify(42, old.replace("v2.k1.", "v2.k2."), 500)).isEqualTo(LoginToken.Verdict.BAD_SIGNATURE);
        assertThat(overlap.verify(43, old, 500)).isEqualTo(LoginToken.Verdict.WRONG_UID);
        assertThat(overlap.verify(42, old, 1_000)).isEqualTo(LoginToken.Verdict.EXPIRED);
        assertThat(overlap.verify(42, "v2.k1.42.-5.1000.AAAA", 1)).isEqualTo(LoginToken.Verdict.MALFORMED);
        assertThat(overlap.verify(42, "v2.k1.42.1000.AAAA", 1)).isEqualTo(LoginToken.Verdict.MALFORMED);
        assertThat(overlap.verify(42, "v3.k1.42.1.1000.AAAA", 1)).isEqualTo(LoginToken.Verdict.MALFORMED);
    }

    @Test
    void theDocumentedExamplesHold() {
        // docs/PROTOCOL.md, "Login tokens".
        assertThat(new LoginToken(bytes("demo-secret-0123456789")).issue(42, 1798761600L))
                .isEqualTo("v1.42.1798761600.uAPyll0sUfCa7LbvHy_RYz1aCalmtVo5_qCOLPP8dII");
        assertThat(new LoginToken(null, java.util.Map.of("k2", bytes("demo-key-0123456789ab")), 0).issue("k2", 42, 1798675200L, 1798761600L))
                .isEqualTo("v2.k2.42.1798675200.1798761600.Sdwv9pMDbNEFwekMjR6RH-00Dq2IFeJIm8EKgLbSEso");
    }

    @Test
    void aMaximumLifetimeRefusesLongerTokens() {
        LoginToken limited = new LoginToken(bytes("0123456789abcdef-secret"), java.util.Map.of("k", bytes("a-key-of-16-bytes!")), 3_600);
        assertThat(limited.verify(42, limited.issue("k", 42, 1_000, 4_600), 1_001)).isEqualTo(LoginToken.Verdict.OK);
        assertThat(limited.verify(42, limited.issue("k", 42, 1_000, 4_601), 1_001)).isEqualTo(LoginToken.Verdict.TOO_LONG);
        // v1 has no issue time: its remaining life counts.
        assertThat(limited.verify(42, tokens.issue(42, 4_000), 1_000)).isEqualTo(LoginToken.Verdict.OK);
        assertThat(limited.verify(42, tokens.issue(42, 4_601), 1_000)).isEqualTo(LoginToken.Verdict.TOO_LONG);
        assertThatThrownBy(() -> new LoginToken(null, java.util.Map.of(), 0)).hasMessageStartingWith("token keys: none");
        assertThatThrownBy(() -> new LoginToken(null, java.util.Map.of("bad id", bytes("a-key-of-16-bytes!")), 0))
                .hasMessageStartingWith("token key id: bad id");
    }

    @Test
    void shortSecretIsRefusedWithItsLength() {
        assertThatThrownBy(() -> new LoginToken(new byte[3]))
                .hasMessage("token secret: 3 bytes (expected: at least 16)");
    }
}
