package io.cellgate.perf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The demo, short: four sample AO sets in two cities, a gateway on the shipped conf/gateway.yaml and
 * the open-loop load client. It passes only when reads and writes were served and nothing was lost.
 */
class DemoTest {
    @Test
    void demoServesReadsAndWritesAndLosesNothing() throws Exception {
        assertThat(Demo.run(Path.of("..", "conf", "gateway.yaml"), Duration.ofSeconds(3), 20, 1000)).isTrue();
    }
}
