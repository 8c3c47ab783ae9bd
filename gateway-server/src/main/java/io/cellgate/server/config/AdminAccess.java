package io.cellgate.server.config;

import java.nio.file.Path;

/**
 * Who may use the admin API beside the admin token ({@link GatewayConfig#adminToken}), and over what.
 *
 * @param readToken    a token that may only read (status, routes, commands, limits, connections,
 *                     city status); null when there is none
 * @param certFile     PEM certificate chain of the admin listener's TLS; null when the API is plaintext
 * @param keyFile      its PEM (PKCS#8) private key; null when the API is plaintext
 * @param clientCaFile PEM CA certificates that sign the client certificates the API then requires
 *                     (mutual TLS); null when any TLS client may connect (the token still decides)
 */
public record AdminAccess(byte[] readToken, Path certFile, Path keyFile, Path clientCaFile) {
    /** Plaintext, the admin token only. */
    public static final AdminAccess TOKEN_ONLY = new AdminAccess(null, null, null, null);

    public boolean tls() {
        return certFile != null;
    }
}
