package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.ConfigException;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.server.internal.ClientTls;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.GatewaydProcess;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.netty.handler.ssl.SslProvider;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/**
 * TLS on the client port, with certificates made by openssl at test time (no key is committed): a
 * TLS client is served, a plaintext one is closed, and a rotated certificate serves new connections
 * after a reload while the open ones carry on.
 */
@StartsProcesses
class TlsTest {

    /** A fresh self-signed certificate and PKCS#8 key for {@code cn} in {@code dir}. */
    static void makeCertificate(Path dir, String cn) throws Exception {
        io.cellgate.testkit.TestCertificates.selfSigned(dir, cn);
    }

    /** A TLS context that trusts only {@code trustedCert}. */
    static SSLContext trusting(Path trustedCert) throws Exception {
        X509Certificate cert;
        try (InputStream in = Files.newInputStream(trustedCert)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("trusted", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    static SSLSocket tlsSocket(int port, Path trustedCert) throws Exception {
        SSLContext ssl = trusting(trustedCert);
        SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.startHandshake();
        return socket;
    }

    static String peerName(SSLSocket socket) throws Exception {
        return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }

    @Test
    void tlsClientsAreServedPlaintextIsRefusedAndARotatedCertificateServesNewConnections(@TempDir Path dir) throws Exception {
        makeCertificate(dir, "cellgate-test-1");
        Path firstCert = dir.resolve("first.pem");
        Files.copy(dir.resolve("cert.pem"), firstCert);
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(sz.address(), sh.address()).tls("cert.pem", "key.pem").build();
            GatewayConfig config = GatewayConfig.parse(yaml, dir, n -> null);
            try (GatewayServer gateway = GatewayServer.start(config)) {
                SSLSocket first = tlsSocket(gateway.port(), firstCert);
                assertThat(peerName(first)).isEqualTo("CN=cellgate-test-1");
                try (TestClient tls = new TestClient(first)) {
                    tls.login(3, TestTopology.token(3));
                    assertThat(tls.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    tls.send(TestClient.request(1, TestTopology.READ, "over tls"));
                    assertThat(tls.next().getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|over tls");

                    // Plaintext on a TLS port: the handshake fails and the connection closes; nothing is served.
                    try (TestClient plain = new TestClient(gateway.port())) {
                        plain.login(4, TestTopology.token(4));
                        assertThat(plain.awaitClosed(5_000)).isTrue();
                        assertThat(plain.poll(0)).isNull();
                    }

                    // Rotate: new files, a reload; new connections get the new certificate...
                    makeCertificate(dir, "cellgate-test-2");
                    assertThat(gateway.reload(GatewayConfig.parse(yaml, dir, n -> null)).needsRestart()).isEmpty();
                    try (SSLSocket second = tlsSocket(gateway.port(), dir.resolve("cert.pem"))) {
                        assertThat(peerName(second)).isEqualTo("CN=cellgate-test-2");
                    }
                    // ...and the open connection carries on.
                    tls.send(TestClient.request(2, TestTopology.READ, "still here"));
                    assertThat(tls.next().getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|still here");
                }
            }
            // A key that does not load is a configuration error naming the key.
            Files.writeString(dir.resolve("key.pem"), "not a key\n");
            assertThatThrownBy(() -> GatewayServer.start(GatewayConfig.parse(yaml, dir, n -> null)))
                    .isInstanceOf(ConfigException.class).hasMessageStartingWith("listen.tls: ");
        }
    }

    @Test
    void aConnectionOverTheAcceptRateIsToldWhyThroughTls(@TempDir Path dir) throws Exception {
        makeCertificate(dir, "cellgate-test-1");
        try (TestAo sz = new TestAo("sz-a")) {
            String yaml = GatewayYaml.testTopology(sz.address(), sz.address()).tls("cert.pem", "key.pem")
                    .admission("accept-rate", 0.1).admission("accept-burst", 1).build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, dir, n -> null));
                 TestClient first = new TestClient(tlsSocket(gateway.port(), dir.resolve("cert.pem")));
                 TestClient second = new TestClient(tlsSocket(gateway.port(), dir.resolve("cert.pem")))) {
                // Refused on the listener's loop, but still through TLS: the client can read why and when to come back.
                ServerFrame refused = second.next();
                assertThat(refused.getGoAway().getCode()).isEqualTo(Code.RATE_LIMITED);
                assertThat(refused.getGoAway().getReconnectAfterMs()).isBetween(1_000, 5_000);
                assertThat(second.awaitClosed(5_000)).isTrue();
                first.login(3, TestTopology.token(3));
                assertThat(first.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                assertThat(gateway.context().counters().acceptsRefused()).isEqualTo(1);
            }
        }
    }

    @Test
    void nativeBoringSslWhenItLoadsTheJdksTlsOtherwise(@TempDir Path dir) throws Exception {
        if (System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64")) {
            // netty-tcnative-boringssl-static (linux-x86_64) ships with the gateway.
            assertThat(ClientTls.provider()).isEqualTo(SslProvider.OPENSSL);
        }
        makeCertificate(dir, "cellgate-test-1");
        try (TestAo sz = new TestAo("sz-a")) {
            Path config = dir.resolve("gateway.yaml");
            Files.writeString(config, GatewayYaml.testTopology(sz.address(), sz.address()).tls("cert.pem", "key.pem").build());
            // Where native TLS cannot load (here: forbidden), the same configuration serves with the JDK's.
            for (String[] run : List.of(new String[] {"OPENSSL"}, new String[] {"JDK", "-Dio.netty.handler.ssl.noOpenSsl=true"})) {
                String[] jvmArgs = Arrays.copyOfRange(run, 1, run.length);
                try (GatewaydProcess daemon = GatewaydProcess.start(config, dir.resolve("gatewayd-" + run[0] + ".log"), 0, Map.of(),
                        jvmArgs)) {
                    assertThat(daemon.awaitLine("with TLS (")).contains("with TLS (" + run[0] + ")");
                    try (TestClient client = new TestClient(tlsSocket(daemon.port(), dir.resolve("cert.pem")))) {
                        client.login(3, TestTopology.token(3));
                        assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                        client.send(TestClient.request(1, TestTopology.READ, run[0]));
                        assertThat(client.next().getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|" + run[0]);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"per-event-loop", "lean"})
    void channelsToTheAosUseTlsVerifiedAgainstTheCaBundle(String mode, @TempDir Path dir) throws Exception {
        Path aoDir = Files.createDirectories(dir.resolve("ao"));
        makeCertificate(aoDir, "ao-test");
        Path otherDir = Files.createDirectories(dir.resolve("other"));
        makeCertificate(otherDir, "some-other-ca");
        try (TestAo sz = new TestAo("sz-a", aoDir.resolve("cert.pem").toFile(), aoDir.resolve("key.pem").toFile());
             TestAo sh = new TestAo("sh-a", aoDir.resolve("cert.pem").toFile(), aoDir.resolve("key.pem").toFile())) {
            String trusted = GatewayYaml.testTopology(sz.address(), sh.address()).channelMode(mode).upstreamCaFile("ao/cert.pem").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(trusted, dir, n -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(3, TestTopology.token(3));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                client.send(TestClient.request(1, TestTopology.READ, "tls to the AO"));
                assertThat(client.next().getResponse().getBody().toStringUtf8()).isEqualTo("sz-a|tls to the AO");
            }
            // A gateway that trusts another CA does not talk to these AOs.
            String untrusted = GatewayYaml.testTopology(sz.address(), sh.address()).channelMode(mode).upstreamCaFile("other/cert.pem").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(untrusted, dir, n -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(3, TestTopology.token(3));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                client.send(TestClient.request(1, TestTopology.READ, "refused"));
                assertThat(client.next().getResponse().getCode()).isEqualTo(Code.UPSTREAM_UNAVAILABLE);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"per-event-loop", "lean"})
    void aoThatRequiresClientCertificatesServesTheGatewayThatPresentsOne(String mode, @TempDir Path dir) throws Exception {
        makeCertificate(Files.createDirectories(dir.resolve("ao")), "ao-test");
        makeCertificate(Files.createDirectories(dir.resolve("gateway")), "gateway-client");
        makeCertificate(Files.createDirectories(dir.resolve("other")), "someone-else");
        java.io.File aoCert = dir.resolve("ao/cert.pem").toFile();
        java.io.File aoKey = dir.resolve("ao/key.pem").toFile();
        java.io.File gatewayCa = dir.resolve("gateway/cert.pem").toFile();
        try (TestAo sz = new TestAo("sz-a", aoCert, aoKey, gatewayCa); TestAo sh = new TestAo("sh-a", aoCert, aoKey, gatewayCa)) {
            String mutual = GatewayYaml.testTopology(sz.address(), sh.address()).channelMode(mode)
                    .upstreamMutualTls("ao/cert.pem", "gateway/cert.pem", "gateway/key.pem").build();
            assertThat(readThrough(mutual, dir)).isEqualTo("sz-a|mtls");
            // Without a client certificate, or with one the AO does not trust, the AO refuses the connection.
            assertThat(readThrough(GatewayYaml.testTopology(sz.address(), sh.address()).channelMode(mode).upstreamCaFile("ao/cert.pem").build(), dir))
                    .isEqualTo(Code.UPSTREAM_UNAVAILABLE.name());
            assertThat(readThrough(GatewayYaml.testTopology(sz.address(), sh.address()).channelMode(mode)
                    .upstreamMutualTls("ao/cert.pem", "other/cert.pem", "other/key.pem").build(), dir))
                    .isEqualTo(Code.UPSTREAM_UNAVAILABLE.name());
        }
    }

    /** One READ through a gateway started from {@code yaml}: the response body, or the code when it failed. */
    private static String readThrough(String yaml, Path dir) throws Exception {
        try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, dir, n -> null));
             TestClient client = new TestClient(gateway.port())) {
            client.login(3, TestTopology.token(3));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            client.send(TestClient.request(1, TestTopology.READ, "mtls"));
            io.cellgate.protocol.v1.Response r = client.next().getResponse();
            return r.getCode() == Code.OK ? r.getBody().toStringUtf8() : r.getCode().name();
        }
    }

    @Test
    void theMetricsListenerSpeaksHttpsWhenConfigured(@TempDir Path dir) throws Exception {
        makeCertificate(dir, "metrics-test");
        try (TestAo sz = new TestAo("sz-a")) {
            String yaml = GatewayYaml.testTopology(sz.address(), sz.address()).metrics("127.0.0.1:0").metricsTls("cert.pem", "key.pem")
                    .build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, dir, n -> null))) {
                SSLContext ssl = trusting(dir.resolve("cert.pem"));
                javax.net.ssl.HttpsURLConnection https = (javax.net.ssl.HttpsURLConnection) java.net.URI.create(
                        "https://127.0.0.1:" + gateway.metricsPort() + "/metrics").toURL().openConnection();
                https.setSSLSocketFactory(ssl.getSocketFactory());
                assertThat(https.getResponseCode()).isEqualTo(200);
                assertThat(new String(https.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
                        .contains("cellgate_client_connections");
                https.disconnect();
                // Plain HTTP gets no metrics.
                java.net.HttpURLConnection plain = (java.net.HttpURLConnection) java.net.URI.create(
                        "http://127.0.0.1:" + gateway.metricsPort() + "/metrics").toURL().openConnection();
                plain.setReadTimeout(5_000);
                assertThatThrownBy(() -> plain.getInputStream().readAllBytes())
                        .isInstanceOf(java.io.IOException.class);
                plain.disconnect();
            }
        }
    }
}
