package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.server.GatewayServer;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestTopology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A live gateway with its admin API on, two AO sets in two cities, and gatewayctl run as a process. */
final class AdminFixture implements AutoCloseable {
    static final String ADMIN_TOKEN = "admin-token-0123456789";

    final TestAo shenzhen;
    final TestAo shanghai;
    final GatewayServer gateway;
    final GatewayConfig config;
    private final Path dir;

    record Run(int exit, String out, String err) {
    }

    /** Only runs gatewayctl (against gateways started elsewhere): no gateway, no AOs of its own. */
    private AdminFixture(Path dir, @SuppressWarnings("UnusedVariable") boolean ctlOnly) { // tells it from the gateway-starting one
        this.dir = dir;
        this.shenzhen = null;
        this.shanghai = null;
        this.gateway = null;
        this.config = null;
    }

    static AdminFixture forCtl(Path dir) {
        return new AdminFixture(dir, true);
    }

    /** Runs gatewayctl against the admin API on 127.0.0.1:{@code adminPort}. */
    Run runAgainst(int adminPort, String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("--admin", "127.0.0.1:" + adminPort));
        all.addAll(List.of(args));
        return run(ADMIN_TOKEN, all.toArray(new String[0]));
    }

    /** A gatewayctl process against 127.0.0.1:{@code adminPort}, not started. */
    ProcessBuilder builder(int adminPort, String... args) {
        List<String> all = new ArrayList<>(List.of("--admin", "127.0.0.1:" + adminPort));
        all.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command(all.toArray(new String[0])));
        pb.environment().remove("CELLGATE_ADMIN");
        pb.environment().put("CELLGATE_ADMIN_TOKEN", ADMIN_TOKEN);
        return pb;
    }

    private static List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
                Gatewayctl.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    AdminFixture(Path dir) throws Exception {
        this.dir = dir;
        shenzhen = new TestAo("sz-a");
        shanghai = new TestAo("sh-a");
        String yaml = TestTopology.yaml(shenzhen.address(), shanghai.address(), "shared", "8s", "30s")
                + "admin:\n  listen: 127.0.0.1:0\n  token: " + ADMIN_TOKEN + "\n";
        config = GatewayConfig.parse(yaml, Path.of("."), name -> null);
        gateway = GatewayServer.start(config);
        gateway.reloadSource(() -> config);
    }

    String admin() {
        return "127.0.0.1:" + gateway.adminPort();
    }

    /** The number field {@code name} of gatewayctl's JSON output. */
    static long field(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\": \"?(\\d+)").matcher(json);
        assertThat(m.find()).as("%s in %s", name, json).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * Runs gatewayctl against this gateway with the right token, in this JVM: the same parsing, client and
     * printing as the process ({@link Gatewayctl#run}), without a JVM start per call. The process itself
     * (exit status, environment) is covered by {@link #run} and GatewayctlProcessTest.
     */
    Run ctl(String... args) throws IOException {
        Path tokenFile = dir.resolve("admin-token");
        if (!Files.exists(tokenFile)) {
            Files.writeString(tokenFile, ADMIN_TOKEN);
        }
        List<String> all = new ArrayList<>(List.of("--admin", admin(), "--admin-token-file", tokenFile.toString()));
        all.addAll(List.of(args));
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int exit = Gatewayctl.run(all.toArray(new String[0]), new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    /** Runs gatewayctl as its own process with {@code token} in CELLGATE_ADMIN_TOKEN (null: unset). */
    Run run(String token, String... args) throws IOException, InterruptedException {
        List<String> command = command(args);
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("CELLGATE_ADMIN_TOKEN");
        pb.environment().remove("CELLGATE_ADMIN");
        if (token != null) {
            pb.environment().put("CELLGATE_ADMIN_TOKEN", token);
        }
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Override
    public void close() throws Exception {
        if (gateway == null) {
            return;
        }
        gateway.close();
        shenzhen.close();
        shanghai.close();
    }
}
