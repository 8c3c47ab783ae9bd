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

    @Test
    void shortSecretIsRefusedWithItsLength() {
        assertThatThrownBy(() -> new LoginToken(new byte[3]))
                .hasMessage("token secret: 3 bytes (expected: at least 16)");
    }
}
