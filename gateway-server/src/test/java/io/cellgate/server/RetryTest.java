package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Idempotent reads are retried once on another set within the budget; writes never are. */
class RetryTest {

    @Test
    void aReadWhoseSetIsUnreachableIsServedByAnotherSetAndWritesAreNotRetried() throws Exception {
        String unreachable;
        try (ServerSocket s = new ServerSocket(0)) {
            unreachable = "127.0.0.1:" + s.getLocalPort();
        }
        try (TestAo sh = new TestAo("sh-a")) {
            // Never ejected: every read tries the unreachable set first, so the retry budget is what is seen.
            String yaml = GatewayYaml.testTopology(unreachable, sh.address()).retryBudget(0.1, 10)
                    .outlier("consecutive-failures", 1_000_000).build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                long uid = TestTopology.uidInSlots(0, 0, 8191); // write point sz-a: unreachable
                client.login(uid, TestTopology.token(uid));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);

                client.send(TestClient.request(1, TestTopology.READ, "r"));
                ServerFrame read = client.next();
                assertThat(read.getResponse().getCode()).isEqualTo(Code.OK);
                assertThat(read.getResponse().getBody().toStringUtf8()).isEqualTo("sh-a|r");

                client.send(TestClient.request(2, TestTopology.WRITE, "w"));
                assertThat(client.next().getResponse().getCode()).isEqualTo(Code.UPSTREAM_UNAVAILABLE);
                assertThat(sh.calls()).isEqualTo(1);

                // The budget: 10 saved retries, then about one per 10 requests.
                int ok = 1;
                for (int seq = 10; seq < 110; seq++) {
                    client.send(TestClient.request(seq, TestTopology.READ, "r"));
                    Code code = client.next().getResponse().getCode();
                    assertThat(code).isIn(Code.OK, Code.UPSTREAM_UNAVAILABLE);
                    ok += code == Code.OK ? 1 : 0;
                }
                assertThat((long) ok).isEqualTo(gateway.context().counters().retries());
                assertThat(ok).isBetween(10 + 10, 10 + 12);
            }
        }
    }

    @Test
    void onceTheUnreachableSetsEndpointsAreEjectedReadsGoElsewhereWithoutSpendingRetries() throws Exception {
        String unreachable;
        try (ServerSocket s = new ServerSocket(0)) {
            unreachable = "127.0.0.1:" + s.getLocalPort();
        }
        try (TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(unreachable, sh.address()).retryBudget(0.1, 10).build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                long uid = TestTopology.uidInSlots(0, 0, 8191);
                client.login(uid, TestTopology.token(uid));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                for (int seq = 1; seq <= 200; seq++) {
                    client.send(TestClient.request(seq, TestTopology.READ, "r"));
                    ServerFrame read = client.next();
                    assertThat(read.getResponse().getBody().toStringUtf8()).as("read %d: %s", seq, read).isEqualTo("sh-a|r");
                }
                // Only the reads that ejected the endpoint (consecutive-failures, 5 by default) needed a retry.
                assertThat(gateway.context().counters().retries()).isEqualTo(5);
                assertThat(gateway.context().endpointsEjected()).containsEntry(unreachable, true);
            }
        }
    }
}
