package io.cellgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.protocol.v1.Code;
import io.cellgate.protocol.v1.ServerFrame;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.TestClient;
import io.cellgate.testkit.TestTopology;
import io.grpc.Metadata;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.cellgate.testkit.StartsProcesses;

/** A city switch with gatewayctl under load, its rollback, and a drain through the admin API. */
@StartsProcesses
class CitySwitchTest {
    private static final Metadata.Key<String> CMD = Metadata.Key.of("x-cellgate-cmd", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> EPOCH = Metadata.Key.of("x-cellgate-route-epoch", Metadata.ASCII_STRING_MARSHALLER);

    /** Sends a WRITE and a READ alternately, one at a time, and counts the answers by code. */
    static final class Load implements AutoCloseable {
        final ConcurrentHashMap<String, AtomicLong> codes = new ConcurrentHashMap<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;
        private final TestClient client;

        Load(int port, long uid) throws Exception {
            client = new TestClient(port);
            client.login(uid, TestTopology.token(uid));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            thread = new Thread(() -> {
                long seq = 0;
                try {
                    while (!stop.get()) {
                        boolean write = seq % 2 == 0;
                        client.send(TestClient.request(++seq, write ? TestTopology.WRITE : TestTopology.READ, "x"));
                        ServerFrame f = client.next();
                        codes.computeIfAbsent((write ? "write " : "read ") + f.getResponse().getCode(), k -> new AtomicLong()).incrementAndGet();
                    }
                } catch (Exception e) {
                    codes.computeIfAbsent("error " + e, k -> new AtomicLong()).incrementAndGet();
                }
            });
            thread.start();
        }

        long count(String key) {
            AtomicLong n = codes.get(key);
            return n == null ? 0 : n.get();
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            thread.join(10_000);
            client.close();
        }
    }

    private static long field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": \"?(\\d+)").matcher(json);
        assertThat(m.find()).as("%s in %s", name, json).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void noWriteIsAcceptedInTheOldCityAfterTheForbidAndReadsContinue(@TempDir Path dir) throws Exception {
        try (AdminFixture fx = new AdminFixture(dir)) {
            long uid = TestTopology.uidInSlots(0, 8192, 16383); // write point sh-a, in city sh
            try (Load load = new Load(fx.gateway.port(), uid)) {
                Await.until("50 writes OK", () -> load.count("write OK") >= 50);
                long epochBefore = fx.gateway.routes().current().epoch();
                fx.shanghai.drainHeaders();

                AdminFixture.Run dry = fx.ctl("-o", "json", "city", "switch", "--from", "sh", "--to", "sz", "--dry-run");
                assertThat(dry.exit()).as(dry.err()).isZero();
                assertThat(fx.gateway.routes().current().epoch()).isEqualTo(epochBefore);

                AdminFixture.Run run = fx.ctl("-o", "json", "city", "switch", "--from", "sh", "--to", "sz", "--settle", "2s");
                assertThat(run.exit()).as(run.err()).isZero();
                long forbidEpoch = field(run.out(), "forbidEpoch");
                long finalEpoch = field(run.out(), "finalEpoch");
                assertThat(forbidEpoch).isEqualTo(epochBefore + 1);
                assertThat(finalEpoch).isEqualTo(epochBefore + 3);
                long writesAfter = load.count("write OK");
                Await.until("50 more writes OK", () -> load.count("write OK") >= writesAfter + 50);
                // The old city's AO saw no write dispatched at or after the forbid epoch.
                List<Metadata> oldCity = fx.shanghai.drainHeaders();
                long lateWrites = oldCity.stream().filter(h -> "2".equals(h.get(CMD)))
                        .filter(h -> Long.parseLong(h.get(EPOCH)) >= forbidEpoch).count();
                assertThat(lateWrites).isZero();
                // Writes now land in the new city.
                assertThat(fx.gateway.routes().current().set(fx.gateway.routes().current().writePointOf(uid)).city()).isEqualTo("sz");
                assertThat(load.count("read OK")).isGreaterThan(50);
                assertThat(load.codes.keySet()).allMatch(k -> k.equals("read OK") || k.equals("write OK") || k.equals("write WRITE_FORBIDDEN"));

                AdminFixture.Run rollback = fx.ctl("-o", "json", "city", "rollback");
                assertThat(rollback.exit()).as(rollback.err()).isZero();
                assertThat(field(rollback.out(), "epoch")).isEqualTo(finalEpoch + 1);
                assertThat(rollback.out()).contains("restored the routes of epoch " + epochBefore);
                assertThat(fx.gateway.routes().current().set(fx.gateway.routes().current().writePointOf(uid)).name()).isEqualTo("sh-a");
                AdminFixture.Run again = fx.ctl("city", "rollback");
                assertThat(again.exit()).isEqualTo(1);
                assertThat(again.err()).contains("no city switch to roll back");
            }
        }
    }

    @Test
    void drainThroughTheAdminApiSendsGoAwayAndStopsTheGateway(@TempDir Path dir) throws Exception {
        try (AdminFixture fx = new AdminFixture(dir); TestClient client = new TestClient(fx.gateway.port())) {
            client.login(5, TestTopology.token(5));
            assertThat(client.next().getLoginAck().getCode()).isEqualTo(Code.OK);
            AdminFixture.Run drain = fx.ctl("-o", "json", "drain");
            assertThat(drain.exit()).as(drain.err()).isZero();
            assertThat(drain.out()).contains("\"started\": true");
            assertThat(client.next().getGoAway().getCode()).isEqualTo(Code.SHUTTING_DOWN);
            assertThat(client.awaitClosed(15_000)).isTrue();
            Await.until("the gateway no longer ready", () -> !fx.gateway.ready());
            assertThat(fx.gateway.ready()).isFalse();
        }
    }
}
