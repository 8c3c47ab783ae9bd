package io.cellgate.cli;

import io.cellgate.protocol.admin.v1.AdminGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A connection to a gateway's admin API, with the admin token on every call. */
final class AdminClient implements AutoCloseable {
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ManagedChannel channel;
    private final AdminGrpc.AdminBlockingStub stub;
    final String address;

    /** TLS to the admin API: the CA to trust, and a client certificate and key when it requires one (else null). */
    record Tls(Path caCert, Path clientCert, Path clientKey) {
    }

    AdminClient(String address, String token) {
        this(address, token, null);
    }

    AdminClient(String address, String token, Tls tls) {
        this.address = address;
        int colon = address.lastIndexOf(':');
        if (colon <= 0) {
            throw new UsageException("--admin: " + address + " (expected: host:port)");
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UsageException("--admin: " + address + " (expected: host:port)");
        }
        // A route export of a fleet with a million overrides is tens of MiB: more than gRPC's default 4 MiB.
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(address.substring(0, colon), port).maxInboundMessageSize(256 << 20);
        if (tls == null) {
            builder.usePlaintext();
        } else {
            builder.sslContext(sslContext(tls));
        }
        this.channel = builder.build();
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + token);
        this.stub = AdminGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private static io.netty.handler.ssl.SslContext sslContext(Tls tls) {
        for (Path f : java.util.Arrays.asList(tls.caCert(), tls.clientCert(), tls.clientKey())) {
            if (f != null && !Files.isReadable(f)) {
                throw new UsageException(f + ": cannot be read (expected: a readable PEM file for --cacert, --cert or --key)");
            }
        }
        try {
            io.netty.handler.ssl.SslContextBuilder b = io.grpc.netty.GrpcSslContexts.forClient().trustManager(tls.caCert().toFile());
            if (tls.clientCert() != null) {
                b.keyManager(tls.clientCert().toFile(), tls.clientKey().toFile());
            }
            return b.build();
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
            throw new UsageException("--cacert/--cert/--key: " + e.getMessage() + " (expected: PEM certificates and a PKCS#8 key)");
        }
    }

    /** The stub with a deadline of {@code seconds}. */
    AdminGrpc.AdminBlockingStub call(long seconds) {
        return stub.withDeadlineAfter(seconds, TimeUnit.SECONDS);
    }

    static String token(Path file, String envName) {
        if (file != null) {
            try {
                return Files.readString(file, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new UsageException("--admin-token-file: " + file + " (expected: a readable file holding the admin token)");
            }
        }
        String token = System.getenv(envName);
        if (token == null || token.isBlank()) {
            throw new UsageException("no admin token: set " + envName + " or pass --admin-token-file FILE");
        }
        return token.strip();
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
