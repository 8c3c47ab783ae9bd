package io.cellgate.server.internal;

import io.cellgate.server.config.ConfigException;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * TLS of the client listener and of the channels to the AOs. The listener's: a server {@link SslContext} from a PEM certificate chain and a PEM
 * (PKCS#8) key, on native BoringSSL/OpenSSL when netty-tcnative is on the class path, else the JDK's
 * provider; TLS 1.3 and 1.2. The files are read again on every reload, so a rotated certificate
 * serves new connections at once while open ones keep theirs.
 */
public final class ClientTls {
    private ClientTls() {
    }

    /** The provider new contexts use. */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /**
     * A gRPC client context for the channels to the AOs, trusting the PEM CA bundle {@code caFile}
     * (and only it), presenting {@code certFile} and {@code keyFile} to AOs that require a client
     * certificate (null: none); a clear configuration error when they do not load.
     */
    public static SslContext upstream(Path caFile, Path certFile, Path keyFile) {
        try {
            SslContextBuilder b = io.grpc.netty.GrpcSslContexts.forClient().trustManager(caFile.toFile());
            if (certFile != null) {
                b.keyManager(certFile.toFile(), keyFile.toFile());
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("upstream.tls: " + caFile + (certFile == null ? "" : ", " + certFile + ", " + keyFile)
                    + " (expected: a PEM bundle of the CA certificates that sign the AOs' certificates"
                    + (certFile == null ? "" : ", and a PEM client certificate with its PKCS#8 key") + "): " + e.getMessage(), e);
        }
    }

    /** A server context from {@code cert} and {@code key}; a clear configuration error when they do not load. */
    public static SslContext load(Path cert, Path key) {
        try {
            return SslContextBuilder.forServer(cert.toFile(), key.toFile())
                    .sslProvider(provider())
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ConfigException("listen.tls: " + cert + ", " + key
                    + " (expected: a PEM certificate chain and its PEM (PKCS#8) private key): " + e.getMessage(), e);
        }
    }
}
