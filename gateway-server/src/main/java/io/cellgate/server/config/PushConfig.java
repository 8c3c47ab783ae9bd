package io.cellgate.server.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The push API for services ({@code push} in the config): its listener, who may call it, and the
 * bounds on what it sends.
 *
 * @param host              address of the push gRPC API ({@code cellgate.v1.Push})
 * @param port              its port; 0 picks a free one, -1 turns it off
 * @param token             the bearer token every call must carry (null when it is off)
 * @param certFile          PEM certificate chain of the listener's TLS; null: plaintext
 * @param keyFile           its PEM (PKCS#8) key
 * @param clientCaFile      PEM CA certificates that sign the client certificates then required (mutual
 *                          TLS); null: any TLS client, the token decides
 * @param ratePerConnection pushes per second one connection receives at most (the burst is the same
 *                          number, at least 1); 0: no limit
 * @param topicRate         pushes per second to one topic at most; 0: no limit
 * @param maxTopics         topics held at once
 * @param maxTopicMembers   users one topic holds at most
 * @param ackTimeout        how long a push that asks for acks waits for them, unless the call says
 */
public record PushConfig(String host, int port, byte[] token, Path certFile, Path keyFile, Path clientCaFile,
                         double ratePerConnection, double topicRate, int maxTopics, int maxTopicMembers, Duration ackTimeout) {
    /** The API off; the bounds at their defaults. */
    public static final PushConfig OFF = new PushConfig("127.0.0.1", -1, null, null, null, null, 100, 1000, 100_000, 1_000_000,
            Duration.ofSeconds(5));

    public boolean enabled() {
        return port >= 0;
    }

    public boolean tls() {
        return certFile != null;
    }
}
