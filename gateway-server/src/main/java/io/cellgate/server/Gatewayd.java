package io.cellgate.server;

import io.cellgate.server.config.ConfigException;
import io.cellgate.server.config.GatewayConfig;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The {@code gatewayd} daemon: {@code gatewayd [--config conf/gateway.yaml] [--check]}. Exits with
 * status 2 and one line naming the key when the configuration is invalid ({@code --check} only
 * validates it: 0 or 2), and with status 1 and one line when it cannot start (a port in use, an
 * unusable directory).
 *
 * <p>Signals: the first SIGTERM (or SIGINT) drains the gateway (see {@link GatewayServer#drain}) and
 * exits 0; a second one exits at once with status 1. SIGHUP reloads the configuration file: a valid
 * one applies without dropping connections ({@link GatewayServer#reload}); an invalid one is refused
 * with the key that is wrong, and the running configuration stays.
 */
public final class Gatewayd {
    private static final Logger LOG = Logger.getLogger(Gatewayd.class.getName());
    /** Netty's system property: one buffer allocation in this many is tracked by its leak detector. */
    static final String LEAK_SAMPLING_INTERVAL = "io.netty.leakDetection.samplingInterval";
    /**
     * gatewayd's sampling interval unless the operator gives one. Netty's default, 128, records a stack
     * trace (a {@code Throwable}) for every 128th buffer, several a request: 2.1% of the gateway's CPU
     * samples at 2,000 requests/s were {@code fill_in_stack_trace}. One in 4,096 still finds a leak on
     * any path requests take within seconds at such rates; {@code cellgate_buffer_leaks_total} counts
     * what it finds.
     */
    static final String LEAK_SAMPLING_DEFAULT = "4096";

    private Gatewayd() {
    }

    public static void main(String[] args) throws InterruptedException {
        // Before any Netty class reads it.
        if (System.getProperty(LEAK_SAMPLING_INTERVAL) == null) {
            System.setProperty(LEAK_SAMPLING_INTERVAL, LEAK_SAMPLING_DEFAULT);
        }
        // One line per record from the first one on; the configuration's format once it is read.
        LogFormat.install(LogFormat.Style.TEXT, java.util.logging.Level.INFO);
        Path config = Path.of("conf/gateway.yaml");
        boolean check = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config", "-c" -> {
                    if (i + 1 >= args.length) {
                        usage("--config needs a file");
                    }
                    config = Path.of(args[++i]);
                }
                case "--check" -> check = true;
                case "--version", "-V" -> {
                    System.out.println("gatewayd " + io.cellgate.protocol.Version.get());
                    return;
                }
                case "--help", "-h" -> {
                    System.out.println("usage: gatewayd [--config FILE] [--check] [--version]   (default conf/gateway.yaml)");
                    System.out.println("  --check   validate the configuration (and the files it names), print the result, exit 0 or 2");
                    System.out.println("  --version print the version of this build");
                    return;
                }
                default -> usage("unknown argument: " + args[i]);
            }
        }
        GatewayConfig gatewayConfig;
        GatewayServer server;
        try {
            gatewayConfig = GatewayConfig.load(config);
            if (check) {
                System.out.println("gatewayd: configuration " + config + " is valid (" + gatewayConfig.commands().size()
                        + " commands, " + gatewayConfig.routes().sets().size() + " sets)");
                return;
            }
            LogFormat.install(gatewayConfig.logging().json() ? LogFormat.Style.JSON : LogFormat.Style.TEXT, gatewayConfig.logging().level());
            server = GatewayServer.start(gatewayConfig);
        } catch (ConfigException e) {
            System.err.println("gatewayd: invalid configuration " + config + ": " + e.getMessage());
            System.exit(2);
            return;
        } catch (java.io.UncheckedIOException e) {
            // A port in use, an unwritable directory, etcd that never answered: one line, what and why.
            System.err.println("gatewayd: cannot start: " + e.getMessage()
                    + (e.getCause() == null || e.getCause().getMessage() == null ? "" : " (" + e.getCause().getMessage() + ")"));
            System.exit(1);
            return;
        }
        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        for (String name : new String[] {"TERM", "INT"}) {
            handleOrWarn(name, signal -> {
                if (stopping.compareAndSet(false, true)) {
                    LOG.info(() -> "SIG" + signal + ": draining (send it again to exit at once)");
                    stop.countDown();
                } else {
                    LOG.warning(() -> "SIG" + signal + " again: exiting without waiting for the drain");
                    Runtime.getRuntime().halt(1);
                }
            });
        }
        Path configPath = config;
        server.reloadSource(() -> GatewayConfig.load(configPath));
        // A drain asked through the admin API ends the daemon like SIGTERM does.
        server.afterDrain(() -> {
            server.close();
            System.exit(0);
        });
        // SIGUSR1 opens the access log again, for logrotate (move the file, then signal).
        handleOrWarn("USR1", signal -> LOG.info(() -> "SIGUSR1: access log " + (server.reopenLogs() ? "reopened" : "is off")));
        handleOrWarn("HUP", signal -> {
            // Off the signal thread: parsing reads the file.
            Thread reload = new Thread(() -> {
                try {
                    server.reload(GatewayConfig.load(configPath));
                } catch (ConfigException e) {
                    LOG.severe(() -> "reload refused, the running configuration stays: " + e.getMessage());
                } catch (RuntimeException e) {
                    LOG.log(java.util.logging.Level.SEVERE, "reload failed, the running configuration stays", e);
                }
            }, "gatewayd-reload");
            reload.setDaemon(true);
            reload.start();
        });
        // Printed once every signal has its handler: whoever waits for this line may signal at once
        // (a SIGHUP before its handler would end the JVM).
        System.out.println("gatewayd: listening on port " + server.port()
                + (server.metricsPort() >= 0 ? ", metrics on port " + server.metricsPort() : "")
                + (server.adminPort() >= 0 ? ", admin on port " + server.adminPort() : "")
                + (server.pushPort() >= 0 ? ", push on port " + server.pushPort() : "")
                + (server.webSocketPort() >= 0 ? ", websocket on port " + server.webSocketPort() : ""));
        stop.await();
        // The drain settings a reload may have changed.
        server.drain(server.config().drainWindow(), server.config().drainTimeout());
        server.close();
        System.exit(0);
    }

    /** Installs {@code handler} for SIG{@code name}, or says why the signal will do nothing. */
    private static void handleOrWarn(String name, java.util.function.Consumer<String> handler) {
        if (!Signals.handle(name, handler)) {
            LOG.warning(() -> "SIG" + name + " is ignored by this process (it was started with SIG" + name + " ignored, as nohup does):"
                    + " it will do nothing" + ("HUP".equals(name) ? "; reload with gatewayctl reload" : "; stop with gatewayctl drain"));
        }
    }

    private static void usage(String problem) {
        System.err.println("gatewayd: " + problem + "\nusage: gatewayd [--config FILE]");
        System.exit(2);
    }
}
