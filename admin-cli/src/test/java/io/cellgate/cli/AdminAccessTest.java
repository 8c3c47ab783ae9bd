package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestCertificates;
import io.cellgate.testkit.TestTopology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API over mutual TLS with two token scopes: gatewayctl reaches it with --cacert, --cert and
 * --key; the read-only token reads and cannot change anything (exit 4, and the message says why); the
 * admin token changes; every change, and every refused one, leaves one audit line.
 */
@StartsProcesses
class AdminAccessTest {
    private static final String READ_TOKEN = "read-only-token-0123456789";

    /** The audit lines the gateway (in this JVM) writes. */
    private static final class AuditLines extends Handler implements AutoCloseable {
        final List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
        private final Logger logger = Logger.getLogger("io.cellgate.audit");

        AuditLines() {
            logger.setLevel(Level.INFO);
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }

        List<String> messages() {
            synchronized (records) {
                return records.stream().map(LogRecord::getMessage).toList();
            }
        }
    }

    @Test
    void gatewayctlOverMutualTlsWithEachTokenScope(@TempDir Path dir) throws Exception {
        Path server = dir.resolve("server");
        Path client = dir.resolve("client");
        Path stranger = dir.resolve("stranger");
        TestCertificates.selfSigned(server, "gateway-admin");
        TestCertificates.selfSigned(client, "operator");
        TestCertificates.selfSigned(stranger, "someone-else");
        try (AuditLines audit = new AuditLines(); TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = TestTopology.yaml(sz.address(), sh.address(), "shared", "8s", "30s")
                    + "admin:\n  listen: 127.0.0.1:0\n  token: " + AdminFixture.ADMIN_TOKEN + "\n  read-token: " + READ_TOKEN
                    + "\n  tls:\n    cert-file: " + server.resolve("cert.pem") + "\n    key-file: " + server.resolve("key.pem")
                    + "\n    client-ca-file: " + client.resolve("cert.pem") + "\n";
            GatewayConfig config = GatewayConfig.parse(yaml, Path.of("."), name -> null);
            try (GatewayServer gateway = GatewayServer.start(config)) {
                gateway.reloadSource(() -> config);
                AdminFixture ctl = AdminFixture.forCtl(dir);
                int port = gateway.adminPort();
                String[] tls = {"--cacert", server.resolve("cert.pem").toString(), "--cert", client.resolve("cert.pem").toString(),
                    "--key", client.resolve("key.pem").toString()};

                // Plaintext, or TLS without a client certificate the gateway trusts: no admin API.
                assertThat(ctl.runAgainst(port, "status").exit()).isEqualTo(Gatewayctl.UNREACHABLE);
                assertThat(ctl.runAgainst(port, "--cacert", server.resolve("cert.pem").toString(), "status").exit())
                        .isEqualTo(Gatewayctl.UNREACHABLE);
                assertThat(ctl.runAgainst(port, "--cacert", server.resolve("cert.pem").toString(), "--cert",
                        stranger.resolve("cert.pem").toString(), "--key", stranger.resolve("key.pem").toString(), "status").exit())
                        .isEqualTo(Gatewayctl.UNREACHABLE);

                // The read-only token reads...
                AdminFixture.Run status = ctl.run(READ_TOKEN, args(port, tls, "-o", "json", "status"));
                assertThat(status.exit()).as(status.err()).isZero();
                assertThat(ctl.run(READ_TOKEN, args(port, tls, "cmds", "list")).exit()).isZero();
                assertThat(ctl.run(READ_TOKEN, args(port, tls, "city", "status")).exit()).isZero();
                // ...and changes nothing.
                long epoch = gateway.routes().current().epoch();
                List<String[]> changes = List.of(new String[] {"degrade", "set", "P1"}, new String[] {"cmds", "set", "1", "--rate", "5"},
                        new String[] {"limits", "set", "--user-rate", "5"}, new String[] {"sets", "down", "sh-a"}, new String[] {"reload"},
                        new String[] {"city", "switch", "--from", "sh", "--to", "sz"}, new String[] {"drain"});
                for (String[] change : changes) {
                    AdminFixture.Run refused = ctl.run(READ_TOKEN, args(port, tls, change));
                    assertThat(refused.exit()).as(String.join(" ", change) + ": " + refused.err()).isEqualTo(Gatewayctl.UNAUTHENTICATED);
                    assertThat(refused.err()).contains("this token may only read");
                }
                assertThat(gateway.routes().current().epoch()).isEqualTo(epoch);
                assertThat(gateway.context().degradeLevel()).isNull();
                assertThat(gateway.ready()).isTrue();
                assertThat(audit.messages()).filteredOn(m -> m.contains("the read-only token may not change anything"))
                        .hasSize(changes.size());

                // The admin token changes; each change is one audit line naming what, from where, and how it ended.
                int before = audit.messages().size();
                AdminFixture.Run degrade = ctl.run(AdminFixture.ADMIN_TOKEN, args(port, tls, "degrade", "set", "P1"));
                assertThat(degrade.exit()).as(degrade.err()).isZero();
                assertThat(gateway.context().degradeLevel()).hasToString("P1");
                AdminFixture.Run bad = ctl.run(AdminFixture.ADMIN_TOKEN, args(port, tls, "sets", "down", "no-such-set"));
                assertThat(bad.exit()).isEqualTo(Gatewayctl.FAILED);
                assertThat(ctl.run(AdminFixture.ADMIN_TOKEN, args(port, tls, "status")).exit()).isZero();
                List<String> lines = audit.messages().subList(before, audit.messages().size());
                assertThat(lines).hasSize(2);
                assertThat(lines.get(0)).startsWith("audit: SetDegrade {level: \"P1\"} by token admin from /127.0.0.1:")
                        .endsWith(": OK (route epoch " + epoch + " -> " + epoch + ")");
                assertThat(lines.get(1)).startsWith("audit: ApplyRoutes {").contains("no-such-set").contains("INVALID_ARGUMENT");
                assertThat(audit.records).noneMatch(r -> r.getMessage().contains(AdminFixture.ADMIN_TOKEN)
                        || r.getMessage().contains(READ_TOKEN));
                assertThat(audit.records).allMatch(r -> r.getLevel().intValue() >= Level.INFO.intValue());
            }
        }
    }

    private static String[] args(int port, String[] tls, String... command) {
        List<String> all = new ArrayList<>(List.of("--admin", "127.0.0.1:" + port));
        all.addAll(List.of(tls));
        all.addAll(List.of(command));
        return all.toArray(new String[0]);
    }
}
