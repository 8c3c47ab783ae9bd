package io.cellgate.server;

import com.sun.net.httpserver.HttpExchange;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The HTTP listener for operators: {@code /metrics} (Prometheus text format, the gateway's metrics and
 * the JVM's), {@code /healthz} (the process is alive) and {@code /readyz} (it takes new clients). It
 * runs on its own small thread pool, never on an event loop.
 */
final class MetricsServer implements AutoCloseable {
    private final HTTPServer server;
    private final ExecutorService executor;

    private MetricsServer(HTTPServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static MetricsServer start(GatewayServer gateway, String host, int port, java.nio.file.Path certFile, java.nio.file.Path keyFile)
            throws IOException {
        io.cellgate.server.internal.LeakReports.install();
        PrometheusRegistry registry = new PrometheusRegistry();
        JvmMetrics.builder().register(registry);
        GatewayMetrics.register(registry, gateway.context(), gateway);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "cellgate-metrics");
            t.setDaemon(true);
            return t;
        });
        HTTPServer.Builder builder = HTTPServer.builder()
                .hostname(host)
                .port(port)
                .registry(registry)
                .executorService(executor)
                .registerHealthHandler(false)
                .defaultHandler(exchange -> health(exchange, gateway));
        if (certFile != null) {
            builder.httpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(sslContext(certFile, keyFile)));
        }
        HTTPServer server;
        try {
            server = builder.buildAndStart();
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            throw e;
        }
        return new MetricsServer(server, executor);
    }

    /** The JDK TLS context of the PEM {@code certFile} and PKCS#8 {@code keyFile} (the HTTP server is the JDK's). */
    private static javax.net.ssl.SSLContext sslContext(java.nio.file.Path certFile, java.nio.file.Path keyFile) {
        try {
            io.netty.handler.ssl.SslContext netty = io.netty.handler.ssl.SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile())
                    .sslProvider(io.netty.handler.ssl.SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2").build();
            return ((io.netty.handler.ssl.JdkSslContext) netty).context();
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
            throw new io.cellgate.server.config.ConfigException("listen.metrics-tls: " + certFile + ", " + keyFile
                    + " (expected: a PEM certificate chain and its PEM (PKCS#8) private key): " + e.getMessage(), e);
        }
    }

    private static void health(HttpExchange exchange, GatewayServer gateway) throws IOException {
        String path = exchange.getRequestURI().getPath();
        int status;
        String body;
        switch (path) {
            case "/healthz" -> {
                status = 200;
                body = "ok\n";
            }
            case "/readyz" -> {
                boolean ready = gateway.ready();
                status = ready ? 200 : 503;
                body = ready ? "ready\n" : "not ready\n";
            }
            default -> {
                status = 404;
                body = "not found: try /metrics, /healthz or /readyz\n";
            }
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
        executor.shutdownNow();
    }
}
