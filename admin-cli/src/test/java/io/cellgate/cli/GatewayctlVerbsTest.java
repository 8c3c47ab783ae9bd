package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every gatewayctl verb against a live gateway, in both output modes, and its errors (in this JVM: see AdminFixture.ctl). */
class GatewayctlVerbsTest {
    @TempDir
    static Path dir;
    private static AdminFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = new AdminFixture(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    /** Runs the verb with -o table and -o json; both succeed, the JSON one prints a JSON object. */
    private static AdminFixture.Run both(String... verb) throws Exception {
        String[] table = concat(new String[] {"-o", "table"}, verb);
        String[] json = concat(new String[] {"-o", "json"}, verb);
        AdminFixture.Run t = fx.ctl(table);
        assertThat(t.exit()).as("%s: %s", List.of(verb), t.err()).isZero();
        assertThat(t.out()).isNotBlank();
        AdminFixture.Run j = fx.ctl(json);
        assertThat(j.exit()).as("%s -o json: %s", List.of(verb), j.err()).isZero();
        assertThat(j.out().strip()).startsWith("{").endsWith("}");
        return t;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void versionsOfTheToolAndTheGateway() throws Exception {
        String version = io.cellgate.protocol.Version.get();
        assertThat(version).isNotEqualTo("unknown").matches("\\d+\\.\\d+\\.\\d+.*");
        assertThat(fx.ctl("version").out().strip()).isEqualTo("gatewayctl " + version);
        assertThat(fx.ctl("--version").out().strip()).isEqualTo("gatewayctl " + version);
        assertThat(fx.ctl("version", "--gateway").out()).contains("gatewayd " + version + " (" + fx.admin() + ")");
        // This gateway has no access log: nothing to reopen, and it says so.
        AdminFixture.Run reopen = fx.ctl("logs", "reopen");
        assertThat(reopen.exit()).as(reopen.err()).isZero();
        assertThat(reopen.out()).contains("the access log is off");
    }

    @Test
    void readVerbs() throws Exception {
        assertThat(both("status").out()).contains("route epoch").contains("sz/sz-1");
        assertThat(both("routes", "get").out()).contains("sz-a").contains("sh-a").contains("0-8191");
        assertThat(both("sets", "list").out()).contains("SET").contains("sh-a");
        assertThat(both("cmds", "list").out()).contains("test.Ao/Echo").contains("WRITE");
        assertThat(both("limits", "get").out()).contains("accept-rate");
        long uid = TestTopology.uidInSlots(0, 8192, 16383);
        assertThat(both("users", "locate", Long.toString(uid), "--cmd", "2").out()).contains("WRITE -> sh-a");
        assertThat(both("users", "locate", Long.toString(uid)).out()).contains("write point").contains("sh-a");
        assertThat(fx.ctl("routes", "export").out()).contains("\"writePoints\"");
        AdminFixture.Run completion = fx.ctl("generate-completion");
        assertThat(completion.exit()).isZero();
        assertThat(completion.out()).contains("gatewayctl");
        AdminFixture.Run help = fx.ctl("routes", "move", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--uid").contains("--clear");
    }

    @Test
    void changeVerbsApplyWithTheirEpochAndDryRunsChangeNothing() throws Exception {
        long before = fx.gateway.routes().current().epoch();
        assertThat(both("routes", "set", "--slots", "0-9", "--set", "sh-a", "--dry-run").out()).contains("dry run")
                .contains("slots 0-9: sz-a -> sh-a");
        assertThat(fx.gateway.routes().current().epoch()).isEqualTo(before);
        assertThat(both("routes", "set", "--slots", "0-9", "--set", "sh-a").out()).contains("route epoch");
        assertThat(fx.gateway.routes().current().set(fx.gateway.routes().current().setOfSlot(5)).name()).isEqualTo("sh-a");
        both("routes", "set", "--slots", "0-9", "--set", "sz-a");
        assertThat(both("routes", "move", "--uid", "42", "--to", "sh-a").out()).contains("override sh-a added");
        both("routes", "move", "--uid", "42", "--clear");
        assertThat(fx.gateway.routes().current().overrideOf(42)).isEqualTo(-1);
        assertThat(both("sets", "drain", "sh-a").out()).contains("state UP -> DRAINING");
        both("sets", "down", "sh-a");
        assertThat(both("sets", "up", "sh-a").out()).contains("route epoch");
        assertThat(fx.gateway.routes().current().set(1).state().name()).isEqualTo("UP");
        assertThat(both("cmds", "set", "1", "--priority", "P2", "--timeout", "3s").out()).contains("P2").contains("3000ms");
        both("cmds", "set", "1", "--priority", "P1", "--timeout", "2s");
        assertThat(both("limits", "set", "--accept-rate", "4000").out()).contains("4000.0/s");
        both("limits", "set", "--accept-rate", "5000");
        assertThat(both("degrade", "set", "P0").out()).contains("degrade: P0");
        assertThat(both("degrade", "clear").out()).contains("degrade: none");
        Path rules = dir.resolve("dye.json");
        Files.writeString(rules, "{\"rules\": [{\"tag\": \"canary\", \"uids\": [\"42\"], \"readSet\": \"sh-a\"},"
                + " {\"devices\": [\"android\"], \"clientDye\": true}]}");
        assertThat(both("dye", "set", "--file", rules.toString()).out()).contains("canary").contains("sh-a").contains("android");
        assertThat(fx.gateway.context().dyeRules()).hasSize(2);
        assertThat(both("dye", "list").out()).contains("canary");
        Files.writeString(rules, "{\"rules\": [{\"tag\": \"x\", \"writeSet\": \"nowhere\"}]}");
        AdminFixture.Run refused = fx.ctl("dye", "set", "--file", rules.toString());
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("nowhere");
        assertThat(fx.gateway.context().dyeRules()).as("a refused change changes nothing").hasSize(2);
        assertThat(both("dye", "clear").out()).contains("no dye rules");
        Path file = dir.resolve("routes.json");
        assertThat(fx.ctl("routes", "export", "--file", file.toString()).exit()).isZero();
        assertThat(both("routes", "diff", "--file", file.toString()).out()).contains("(no difference)");
        long epoch = fx.gateway.routes().current().epoch();
        assertThat(both("routes", "import", "--file", file.toString(), "--dry-run").out()).contains("dry run");
        assertThat(fx.gateway.routes().current().epoch()).isEqualTo(epoch);
        assertThat(fx.ctl("routes", "import", "--file", file.toString()).exit()).isZero();
        assertThat(fx.gateway.routes().current().epoch()).isEqualTo(epoch + 1);
        assertThat(both("city", "switch", "--from", "sh", "--to", "sz", "--dry-run").out()).contains("8192 slots would move");
        assertThat(fx.gateway.routes().current().epoch()).isEqualTo(epoch + 1);
        assertThat(both("reload").out()).contains("reloaded");
    }

    @Test
    void connectionsAreListedAndKicked() throws Exception {
        try (TestClient client = new TestClient(fx.gateway.port())) {
            client.login(77, TestTopology.token(77));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            AdminFixture.Run list = both("conns", "list");
            assertThat(list.out()).contains("77");
            String session = list.out().lines().filter(l -> l.contains(" 77 ")).findFirst().orElseThrow().split("\\s+")[0];
            AdminFixture.Run kick = fx.ctl("conns", "kick", session, "--reconnect-after", "2s");
            assertThat(kick.exit()).as(kick.err()).isZero();
            assertThat(client.next().getGoAway().getReconnectAfterMs()).isEqualTo(2000);
            assertThat(client.awaitClosed(5_000)).isTrue();
            AdminFixture.Run again = fx.ctl("-o", "json", "conns", "kick", session);
            assertThat(again.exit()).isEqualTo(1);
            assertThat(again.err()).contains("session: " + session + " (expected: a session id of gatewayctl conns list)");
        }
    }

    @Test
    void aUsersSessionsAreListedAndKickedTogether() throws Exception {
        try (TestClient phone = new TestClient(fx.gateway.port()); TestClient tablet = new TestClient(fx.gateway.port());
             TestClient other = new TestClient(fx.gateway.port())) {
            for (TestClient c : new TestClient[] {phone, tablet}) {
                c.login(78, TestTopology.token(78));
                assertThat(c.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            }
            other.login(79, TestTopology.token(79));
            assertThat(other.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            AdminFixture.Run sessions = both("users", "sessions", "78");
            assertThat(sessions.out()).startsWith("2 connections of user 78").contains("DEVICE ID");
            assertThat(sessions.out().lines().filter(l -> l.contains(" 78 ")).count()).isEqualTo(2);
            assertThat(sessions.out()).doesNotContain(" 79 ");
            AdminFixture.Run kick = fx.ctl("users", "kick", "78", "--reconnect-after", "1s");
            assertThat(kick.exit()).as(kick.err()).isZero();
            assertThat(kick.out()).contains("told 2 connections of user 78 to go away");
            for (TestClient c : new TestClient[] {phone, tablet}) {
                assertThat(c.next().getGoAway().getReason()).isEqualTo("kicked by an operator");
                assertThat(c.awaitClosed(5_000)).isTrue();
            }
            assertThat(other.isClosed()).isFalse();
            assertThat(fx.ctl("users", "sessions", "nope").exit()).isEqualTo(2);
            AdminFixture.Run fleet = fx.ctl("users", "kick", "79", "--fleet");
            assertThat(fleet.exit()).isEqualTo(1);
            assertThat(fleet.err()).contains("--fleet: this gateway has no session directory (sessions.directory)");
            assertThat(other.isClosed()).as("nothing kicked when the fleet kick is refused").isFalse();
        }
    }

    @Test
    void errorsHaveTheirExitCodesAndSayWhatToDo() throws Exception {
        AdminFixture.Run badToken = fx.run("wrong-token-0123456789", "--admin", fx.admin(), "status");
        assertThat(badToken.exit()).isEqualTo(4);
        assertThat(badToken.err()).contains("admin token missing or wrong").contains("CELLGATE_ADMIN_TOKEN");
        AdminFixture.Run noToken = fx.run(null, "--admin", fx.admin(), "status");
        assertThat(noToken.exit()).isEqualTo(2);
        assertThat(noToken.err()).contains("no admin token: set CELLGATE_ADMIN_TOKEN or pass --admin-token-file FILE");

        AdminFixture.Run unknownSet = fx.ctl("sets", "drain", "nope");
        assertThat(unknownSet.exit()).isEqualTo(1);
        assertThat(unknownSet.err()).contains("set: nope (expected: one of");
        AdminFixture.Run invalidRoute = fx.ctl("-o", "json", "routes", "set", "--slots", "5-1", "--set", "sz-a");
        assertThat(invalidRoute.exit()).isEqualTo(1);
        assertThat(invalidRoute.err()).contains("slots: 5-1 (expected: a range within 0-16383)");
        AdminFixture.Run conflict = fx.ctl("routes", "set", "--slots", "0-1", "--set", "sz-a", "--epoch", "999999");
        assertThat(conflict.exit()).isEqualTo(1);
        assertThat(conflict.err()).contains("route epoch is").contains("not 999999");
        AdminFixture.Run unknownCmd = fx.ctl("users", "locate", "5", "--cmd", "999");
        assertThat(unknownCmd.exit()).isEqualTo(1);
        assertThat(unknownCmd.err()).contains("cmd: 999 (expected: a command of the command table");
        AdminFixture.Run badOutput = fx.ctl("-o", "xml", "status");
        assertThat(badOutput.exit()).isEqualTo(2);
        assertThat(badOutput.err()).contains("--output: xml (expected: table or json)");
        AdminFixture.Run badUsage = fx.ctl("routes", "set", "--slots", "0-1");
        assertThat(badUsage.exit()).isEqualTo(2);

        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        AdminFixture.Run down = fx.run(AdminFixture.ADMIN_TOKEN, "--admin", "127.0.0.1:" + closedPort, "-o", "json", "status");
        assertThat(down.exit()).isEqualTo(3);
        assertThat(down.err()).contains("cannot reach the gateway's admin API at 127.0.0.1:" + closedPort);
    }
}
