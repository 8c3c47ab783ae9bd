package io.cellgate.server.internal;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link ClientPipelineFuzzTest}'s target, fuzzed for 30 minutes. Its name keeps it out of the suite;
 * {@code perf/run-fuzz.sh} runs it and records how many inputs it ran.
 */
class ClientPipelineLongFuzz {
    @BeforeAll
    static void start() throws Exception {
        ClientPipelineFuzzTest.startGateway();
    }

    @AfterAll
    static void stop() throws Exception {
        ClientPipelineFuzzTest.stopGateway();
    }

    @FuzzTest(maxDuration = "30m")
    @org.junit.jupiter.api.Timeout(value = 90, unit = java.util.concurrent.TimeUnit.MINUTES)
    void clientBytes(FuzzedDataProvider data) throws IOException {
        ClientPipelineFuzzTest.run(data);
    }
}
