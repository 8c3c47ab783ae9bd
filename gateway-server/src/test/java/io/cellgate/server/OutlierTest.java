package io.cellgate.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.server.config.GatewayConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.GatewayYaml;
import io.cellgate.testkit.TestAo;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Passive health: a failing endpoint leaves its set's rotation; a set whose endpoints all fail is not emptied. */
class OutlierTest {

    private static void reads(TestClient client, long firstSeq, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            client.send(TestClient.request(firstSeq + i, TestTopology.READ, "o"));
            client.next();
        }
    }

    @Test
    void oneFailingEndpointIsEjectedAndAllFailingStayInPanic() throws Exception {
        try (TestAo a = new TestAo("sz-a"); TestAo b = new TestAo("sz-a"); TestAo c = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String yaml = GatewayYaml.testTopology(a.address() + ", " + b.address() + ", " + c.address(), sh.address())
                    .outlier("consecutive-failures", 3).outlier("base-ejection", "60s").outlier("panic-threshold", 0.5)
                    // No retries: this test looks at where first attempts go.
                    .retryBudget(0, 0).build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(yaml, Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(12, TestTopology.token(12));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                reads(client, 1, 30);
                assertThat(List.of(a.calls(), b.calls(), c.calls())).allMatch(n -> n > 0);

                c.failEcho(Status.UNAVAILABLE.withDescription("down for the test"));
                reads(client, 100, 60);
                long failingCallsBefore = c.calls();
                assertThat(gateway.context().endpointsEjected()).containsEntry(c.address(), true)
                        .containsEntry(a.address(), false).containsEntry(b.address(), false);
                long aBefore = a.calls();
                long bBefore = b.calls();
                reads(client, 200, 90);
                assertThat(c.calls()).as("calls to the ejected endpoint").isEqualTo(failingCallsBefore);
                assertThat(a.calls() - aBefore + b.calls() - bBefore).isEqualTo(90);

                // All three failing, all ejected. A read has another set to go to, and goes there at once.
                a.failEcho(Status.UNAVAILABLE);
                b.failEcho(Status.UNAVAILABLE);
                reads(client, 300, 60);
                assertThat(gateway.context().endpointsEjected()).containsEntry(a.address(), true)
                        .containsEntry(b.address(), true).containsEntry(c.address(), true);
                long sh1 = sh.calls();
                client.send(TestClient.request(500, TestTopology.READ, "o"));
                assertThat(client.next().getResponse().getBody().toStringUtf8()).isEqualTo("sh-a|o");
                assertThat(sh.calls()).isEqualTo(sh1 + 1);

                // A write has nowhere else: below the panic threshold the set uses every endpoint.
                long writer = TestTopology.uidInSlots(3, 0, 8191);
                try (TestClient writes = new TestClient(gateway.port())) {
                    writes.login(writer, TestTopology.token(writer));
                    assertThat(writes.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                    long a2 = a.calls();
                    long b2 = b.calls();
                    long c2 = c.calls();
                    for (int i = 0; i < 60; i++) {
                        writes.send(TestClient.request(600 + i, TestTopology.WRITE, "w"));
                        assertThat(writes.next().getResponse().getCode()).isEqualTo(Code.UPSTREAM_UNAVAILABLE);
                    }
                    assertThat(a.calls() - a2).isPositive();
                    assertThat(b.calls() - b2).isPositive();
                    assertThat(c.calls() - c2).isPositive();
                    assertThat(sh.calls()).isEqualTo(sh1 + 1);
                }
            }
        }
    }

    @Test
    void businessErrorCodesCanCountAsFailuresAndALowSuccessRateEjects() throws Exception {
        try (TestAo a = new TestAo("sz-a"); TestAo b = new TestAo("sz-a"); TestAo sh = new TestAo("sh-a")) {
            String endpoints = a.address() + ", " + b.address();
            // INTERNAL is an AO's business error: by default it says nothing about health.
            a.failEcho(Status.INTERNAL);
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(GatewayYaml.testTopology(endpoints, sh.address())
                    .outlier("consecutive-failures", 3).build(), Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(13, TestTopology.token(13));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                reads(client, 1, 60);
                assertThat(gateway.context().endpointsEjected()).containsEntry(a.address(), false);
            }
            // Recognised by its error code: INTERNAL counts, and three in a row eject.
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(GatewayYaml.testTopology(endpoints, sh.address())
                    .outlier("consecutive-failures", 3).outlier("failure-codes", "[UNAVAILABLE, INTERNAL]").build(),
                    Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(13, TestTopology.token(13));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                reads(client, 1, 60);
                assertThat(gateway.context().endpointsEjected()).containsEntry(a.address(), true);
            }
            // Success rate: no run of failures long enough, but most calls fail over a health interval.
            String rate = GatewayYaml.testTopology(endpoints, sh.address()).outlier("consecutive-failures", 1000)
                    .outlier("failure-codes", "[INTERNAL]").outlier("min-success-rate", 0.5).outlier("min-requests", 10)
                    .health("interval", "100ms").build();
            try (GatewayServer gateway = GatewayServer.start(GatewayConfig.parse(rate, Path.of("."), name -> null));
                 TestClient client = new TestClient(gateway.port())) {
                client.login(13, TestTopology.token(13));
                assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
                long[] seq = {1};
                Await.until("endpoint a ejected for its success rate", () -> {
                    try {
                        reads(client, seq[0], 10);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    seq[0] += 10;
                    return gateway.context().endpointsEjected().get(a.address());
                });
                assertThat(gateway.context().endpointsEjected()).containsEntry(a.address(), true).containsEntry(b.address(), false);
            }
        }
    }
}
