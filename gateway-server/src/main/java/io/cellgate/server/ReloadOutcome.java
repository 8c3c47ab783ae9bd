package io.cellgate.server;

import io.cellgate.server.config.GatewayConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * What a reload did with each key it changed: applied, kept until a restart, or left to the route
 * store. Every changed key is in one list, so a reload is never silent about a key; and a key whose
 * change waits for a restart is named by every reload until then, not only by the one that changed it.
 *
 * @param applied          changed keys the running gateway now uses (new connections and requests at once)
 * @param needsRestart     keys whose configured value differs from the one the gateway started with and
 *                         runs: a restart applies them (a key set back to that value is no longer named)
 * @param keptByRouteStore changed route and topology keys, with a route store (or a fleet): the store holds the
 *                         live routes and the file only seeds an empty one, so they change with gatewayctl; with
 *                         a fleet, also the shared settings' keys ({@link SharedSettingsCodec#KEYS}: commands,
 *                         admission rates, degrade), which live in etcd beside the routes
 */
public record ReloadOutcome(List<String> applied, List<String> needsRestart, List<String> keptByRouteStore) {
    /**
     * Keys (and key prefixes, before a dot) whose new value a reload applies. Everything not listed
     * here needs a restart: listeners, event loops, the route store, the fleet, upstream channels and
     * their health and limits, discovery, the access log's file and ring, the admin API, the push
     * listener and the session directory.
     */
    static final List<String> APPLIED = List.of(
            "gateway.alternates",
            "limits", "login", "commands", "admission", "dye", "logging", "drain",
            "sessions.max-per-user", "sessions.when-full",
            "push.rate-per-connection", "push.topic-rate", "push.max-topics", "push.max-topic-members", "push.ack-timeout",
            "access-log.sample",
            // Read by each new WebSocket connection; the listener itself (address, TLS) needs a restart.
            "listen.websocket-path", "listen.websocket-origins",
            "upstream.retry-budget",
            // With TLS on before and after: the certificate and key files are read again.
            "listen.tls");
    /** The keys the route table is built from: applied without a route store, the store's otherwise. */
    static final List<String> ROUTES = List.of("routes", "topology", "gateway.read-preference");

    /**
     * Sorts the keys {@code running} (the configuration last loaded) and {@code next} differ in, and the
     * restart-only keys {@code started} (the one the process started with, which those keys still run
     * with) and {@code next} differ in.
     */
    static ReloadOutcome of(GatewayConfig started, GatewayConfig running, GatewayConfig next) {
        List<String> applied = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        List<String> store = new ArrayList<>();
        boolean routesInStore = started.routeStoreDir() != null || started.fleet() != null;
        boolean tlsOnOff = (started.tlsCertFile() == null) != (next.tlsCertFile() == null);
        java.util.Set<String> changed = new java.util.HashSet<>(running.keys().changedIn(next.keys()));
        java.util.Set<String> pending = new java.util.HashSet<>(started.keys().changedIn(next.keys()));
        java.util.TreeSet<String> keys = new java.util.TreeSet<>(changed);
        keys.addAll(pending);
        for (String key : keys) {
            if (key.equals("routes.store-dir")) {
                addIf(pending, key, restart);
            } else if (matches(ROUTES, key)) {
                addIf(changed, key, routesInStore ? store : applied);
            } else if (started.fleet() != null && matches(SharedSettingsCodec.KEYS, key)) {
                // The fleet's commands and admission rates live in etcd: the file seeds them, gatewayctl changes them.
                addIf(changed, key, store);
            } else if (matches(List.of("listen.tls"), key) && tlsOnOff) {
                addIf(pending, key, restart);
            } else if (matches(APPLIED, key)) {
                addIf(changed, key, applied);
            } else {
                addIf(pending, key, restart);
            }
        }
        // Secrets read from files or the environment change without their key changing.
        if (!java.util.Arrays.equals(started.push().token(), next.push().token()) && !matchesAny(restart, "push.token")) {
            restart.add("push.token");
        }
        if (!java.util.Arrays.equals(started.adminToken(), next.adminToken()) && !matchesAny(restart, "admin.token")) {
            restart.add("admin.token");
        }
        return new ReloadOutcome(List.copyOf(applied), List.copyOf(restart), List.copyOf(store));
    }

    private static void addIf(java.util.Set<String> in, String key, List<String> to) {
        if (in.contains(key)) {
            to.add(key);
        }
    }

    /** Whether {@code key} is one of {@code keys} or under one of them. */
    static boolean matches(List<String> keys, String key) {
        for (String k : keys) {
            if (key.equals(k) || key.startsWith(k + ".")) {
                return true;
            }
        }
        return false;
    }

    /** Whether one of {@code keys} names the secret {@code prefix} (token, token-file, token-env). */
    private static boolean matchesAny(List<String> keys, String prefix) {
        return keys.stream().anyMatch(k -> k.startsWith(prefix));
    }

    /** One line for the log: {@code applied: K, K; needs a restart to change: K; kept by the store ...: K}. */
    String describe() {
        StringBuilder b = new StringBuilder("applied: ").append(applied.isEmpty() ? "none" : String.join(", ", applied));
        if (!needsRestart.isEmpty()) {
            b.append("; needs a restart to change: ").append(String.join(", ", needsRestart));
        }
        if (!keptByRouteStore.isEmpty()) {
            b.append("; kept by the store (change them with gatewayctl): ").append(String.join(", ", keptByRouteStore));
        }
        return b.toString();
    }
}
