package io.cellgate.server.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The WebSocket listener for web clients ({@code listen.websocket*}): the same {@code ClientFrame} and
 * {@code ServerFrame} messages as TCP, one per binary WebSocket message.
 *
 * @param host           address to listen on
 * @param port           its port; 0 picks a free one, -1 turns it off
 * @param path           the one path upgraded to WebSocket, e.g. {@code /cellgate}
 * @param allowedOrigins the {@code Origin} values a browser may connect from ({@code *}: any); a
 *                       request without an Origin (not from a browser) is always let through
 * @param certFile       PEM certificate chain for wss; null: plain ws
 * @param keyFile        its PEM (PKCS#8) key
 */
public record WebSocketConfig(String host, int port, String path, List<String> allowedOrigins, Path certFile, Path keyFile) {
    public static final WebSocketConfig OFF = new WebSocketConfig("0.0.0.0", -1, "/cellgate", List.of(), null, null);

    public boolean enabled() {
        return port >= 0;
    }

    /** Whether a browser page from {@code origin} may connect. */
    public boolean allows(String origin) {
        return allowedOrigins.contains("*") || allowedOrigins.contains(origin);
    }
}
