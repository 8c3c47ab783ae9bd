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

    AdminClient(String address, String token) {
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
        this.channel = NettyChannelBuilder.forAddress(address.substring(0, colon), port).usePlaintext().build();
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + token);
        this.stub = AdminGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
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
