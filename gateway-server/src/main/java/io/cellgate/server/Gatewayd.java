package io.cellgate.server;

import io.cellgate.server.config.ConfigException;
import io.cellgate.server.config.GatewayConfig;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code gatewayd} daemon: {@code gatewayd [--config conf/gateway.yaml]}. Exits with status 2 and
 * one line naming the key when the configuration is invalid.
 */
public final class Gatewayd {
    private Gatewayd() {
    }

    public static void main(String[] args) throws InterruptedException {
        Path config = Path.of("conf/gateway.yaml");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config", "-c" -> {
                    if (i + 1 >= args.length) {
                        usage("--config needs a file");
                    }
                    config = Path.of(args[++i]);
                }
                case "--help", "-h" -> {
                    System.out.println("usage: gatewayd [--config FILE]   (default conf/gateway.yaml)");
                    return;
                }
                default -> usage("unknown argument: " + args[i]);
            }
        }
        GatewayServer server;
        try {
            server = GatewayServer.start(GatewayConfig.load(config));
        } catch (ConfigException e) {
            System.err.println("gatewayd: invalid configuration " + config + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("gatewayd: listening on port " + server.port());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "gatewayd-shutdown"));
        stopped.await();
    }

    private static void usage(String problem) {
        System.err.println("gatewayd: " + problem + "\nusage: gatewayd [--config FILE]");
        System.exit(2);
    }
}
