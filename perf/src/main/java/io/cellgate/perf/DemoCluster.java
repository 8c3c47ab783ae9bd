package io.cellgate.perf;

import io.cellgate.perf.ao.SampleAoServer;
import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The sample AOs of the four sets of {@code conf/gateway.yaml} (two cities, two sets each), on free
 * ports, and that configuration rewritten to use them, listen on a free loopback port, keep routes
 * in memory and carry a fresh token secret. Used by the demo and the comparisons.
 */
public final class DemoCluster implements AutoCloseable {
    private static final String[] SETS = {"sz-a", "sz-b", "sh-a", "sh-b"};
    private static final String[] SHIPPED_ENDPOINTS = {"127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103", "127.0.0.1:7104"};

    private final List<SampleAoServer> aos = new ArrayList<>();
    private final String yaml;
    private final String secret;

    public DemoCluster(Path template) throws IOException {
        String text = Files.readString(template, StandardCharsets.UTF_8);
        try {
            for (int i = 0; i < SETS.length; i++) {
                SampleAoServer ao = new SampleAoServer(SETS[i], "127.0.0.1", 0, 0, 0);
                aos.add(ao);
                text = replaceOnce(text, SHIPPED_ENDPOINTS[i], "127.0.0.1:" + ao.port());
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        byte[] secretBytes = new byte[24];
        new SecureRandom().nextBytes(secretBytes);
        this.secret = HexFormat.of().formatHex(secretBytes);
        // Routes live in memory only: every run starts from the shipped routes.
        String local = replaceOnce(text, "client: ${CELLGATE_CLIENT_LISTEN:-0.0.0.0:9000}", "client: 127.0.0.1:0");
        local = replaceOnce(local, "metrics: ${CELLGATE_METRICS_LISTEN:-127.0.0.1:9410}", "metrics: 127.0.0.1:0");
        local = replaceOnce(local, "listen: ${CELLGATE_ADMIN_LISTEN:-127.0.0.1:9411}", "listen: 127.0.0.1:0");
        local = replaceOnce(local, "file: ${LOGS_DIRECTORY:-../logs}/access.log", "file: off");
        // The push API on, so the sample AOs' Notify can push back to the demo's clients.
        local = replaceOnce(local, "  listen: off\n  # listen: 127.0.0.1:9412\n  # token-env: CELLGATE_PUSH_TOKEN\n",
                "  listen: 127.0.0.1:0\n  token-env: CELLGATE_PUSH_TOKEN\n");
        this.yaml = replaceOnce(local, "store-dir: ${STATE_DIRECTORY:-../data}/routes\n", "");
    }

    public List<SampleAoServer> aos() {
        return aos;
    }

    public byte[] secret() {
        return secret.getBytes(StandardCharsets.UTF_8);
    }

    /** The rewritten configuration, after {@code edit}. */
    public GatewayConfig config(UnaryOperator<String> edit) {
        return GatewayConfig.parse(edit.apply(yaml), Path.of("."),
                Map.of("CELLGATE_TOKEN_SECRET", secret, "CELLGATE_ADMIN_TOKEN", secret + "-admin", "CELLGATE_PUSH_TOKEN", pushToken())::get);
    }

    private String pushToken() {
        return secret + "-push";
    }

    /** Starts the gateway and points the sample AOs' Notify at its push API. */
    public GatewayServer startGateway(UnaryOperator<String> edit) throws InterruptedException {
        GatewayServer gateway = GatewayServer.start(config(edit));
        if (gateway.pushPort() >= 0) {
            for (SampleAoServer ao : aos) {
                ao.pushThrough("127.0.0.1", gateway.pushPort(), pushToken());
            }
        }
        return gateway;
    }

    /** {@code text} with {@code from} replaced; fails unless {@code from} is in it exactly once (a template edit never silently misses). */
    public static String replaceOnce(String text, String from, String to) throws IOException {
        int at = text.indexOf(from);
        if (at < 0) {
            throw new IOException("the config template has no '" + from + "'");
        }
        if (text.indexOf(from, at + 1) >= 0) {
            throw new IOException("the config template has '" + from + "' more than once");
        }
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    @Override
    public void close() {
        for (SampleAoServer ao : aos) {
            try {
                ao.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
