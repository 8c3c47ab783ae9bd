package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.GatewaydProcess;
import io.cellgate.testkit.StartsProcesses;
import io.cellgate.testkit.TestAo;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gatewayd's log lines: one per record, text or JSON, its libraries' too, and no SLF4J warning. */
@StartsProcesses
class LoggingTest {
    private static final String TEXT = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z (SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST) \\[[^\\]]+] \\S+: .*";

    @TempDir
    Path dir;

    /** What {@code log} writes through a handler with {@code style}, for one record of each kind. */
    private static List<String> lines(LogFormat.Style style, Runnable log, String loggerName) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StreamHandler handler = new StreamHandler(out, new LogFormat(style));
        Logger logger = Logger.getLogger(loggerName);
        logger.addHandler(handler);
        try {
            log.run();
        } finally {
            handler.flush();
            logger.removeHandler(handler);
        }
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private static void eachKind(String name) {
        Logger jul = Logger.getLogger(name);
        jul.info("a plain line");
        jul.warning("a message\nover two lines\twith a tab and \"quotes\"");
        jul.log(Level.SEVERE, "with an exception", new IllegalStateException("outer", new java.io.IOException("inner\ncause")));
        // Libraries that log through SLF4J (jetcd, Lettuce, Netty) reach the same handlers.
        org.slf4j.LoggerFactory.getLogger(name + ".slf4j").warn("through SLF4J {}", 42);
        io.netty.util.internal.logging.InternalLoggerFactory.getInstance(name + ".netty").warn("through Netty's logger");
    }

    @Test
    void everyRecordIsOneLineInTextAndInJson() {
        List<String> text = lines(LogFormat.Style.TEXT, () -> eachKind("cellgate.test.text"), "cellgate.test.text");
        assertThat(text).hasSize(5).allMatch(l -> l.matches(TEXT), "text lines");
        assertThat(text.get(1)).endsWith("a message\\nover two lines\\twith a tab and \"quotes\"");
        assertThat(text.get(2)).contains("with an exception | exception: java.lang.IllegalStateException: outer <- at ")
                .contains("; Caused by: java.io.IOException: inner\\ncause");
        assertThat(text.get(3)).contains("cellgate.test.text.slf4j: through SLF4J 42");
        assertThat(text.get(4)).contains("cellgate.test.text.netty: through Netty's logger");

        List<String> json = lines(LogFormat.Style.JSON, () -> eachKind("cellgate.test.json"), "cellgate.test.json");
        assertThat(json).hasSize(5);
        for (String line : json) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            assertThat(o.get("time").getAsString()).matches("\\d{4}-.*Z");
            assertThat(o.get("thread").getAsString()).isEqualTo(Thread.currentThread().getName());
            assertThat(o.has("level") && o.has("logger") && o.has("message")).isTrue();
        }
        assertThat(JsonParser.parseString(json.get(1)).getAsJsonObject().get("message").getAsString())
                .isEqualTo("a message\nover two lines\twith a tab and \"quotes\"");
        assertThat(JsonParser.parseString(json.get(2)).getAsJsonObject().get("exception").getAsString())
                .startsWith("java.lang.IllegalStateException: outer <- at ");
    }

    @Test
    void theDaemonLogsJsonLinesOnlyAndNoSlf4jWarning() throws Exception {
        try (TestAo sz = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            Path config = dir.resolve("gateway.yaml");
            Files.writeString(config, GatewayYaml.testTopology(sz.address(), sh.address())
                    .section("logging:\n  format: json\n  level: info\n").build());
            Path log = dir.resolve("gatewayd.log");
            GatewaydProcess daemon = GatewaydProcess.start(config, log);
            try {
                new ProcessBuilder("kill", "-HUP", Long.toString(daemon.process().pid())).start().waitFor(10, TimeUnit.SECONDS);
                daemon.awaitLine("reload: applied");
            } finally {
                new ProcessBuilder("kill", "-TERM", Long.toString(daemon.process().pid())).start().waitFor(10, TimeUnit.SECONDS);
                assertThat(daemon.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
                daemon.close();
            }
            List<String> lines = Files.readAllLines(log);
            assertThat(lines).noneMatch(l -> l.contains("SLF4J"));
            int json = 0;
            for (String line : lines) {
                if (line.startsWith("gatewayd: ")) {
                    continue; // the readiness line on standard output, for whoever waits for the port
                }
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                assertThat(o.get("level").getAsString()).isNotBlank();
                json++;
            }
            assertThat(json).as("JSON log lines in %s", lines).isGreaterThanOrEqualTo(3);
            assertThat(lines).anyMatch(l -> l.contains("\"logger\":\"io.cellgate.server.GatewayServer\"") && l.contains("reload: applied"));
        }
    }
}
