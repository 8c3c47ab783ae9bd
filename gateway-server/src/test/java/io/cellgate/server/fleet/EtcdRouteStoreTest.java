package io.cellgate.server.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.cellgate.route.CellSet;
import io.cellgate.route.Locality;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteTable;
import io.cellgate.route.SetState;
import io.cellgate.server.config.FleetConfig;
import io.cellgate.testkit.Await;
import io.cellgate.testkit.EtcdProcess;
import io.cellgate.testkit.StartsProcesses;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The route table in etcd in parts, with a real etcd: tables larger than one etcd value, batches
 * applied by watchers, the log folded into a new base while two writers keep writing, a replaced
 * table, and a table stored as one value by an older store taken over.
 */
@StartsProcesses
class EtcdRouteStoreTest {
    private static final String PREFIX = "/cellgate/parts-test/";
    private static final int SLOTS = 16384;

    /** One gateway's route engine on the fleet's store. */
    static final class Node implements AutoCloseable {
        final EtcdFleet fleet;
        final EtcdRouteStore store;
        final RouteEngine engine;

        Node(String etcdUrl, String prefix, Path dir, RouteTable seed) throws Exception {
            fleet = new EtcdFleet(new FleetConfig(List.of(etcdUrl), prefix, null, Duration.ofSeconds(3), Duration.ofSeconds(2),
                    Duration.ofMillis(200), new FleetConfig.Security(null, null, null, null, null)));
            store = new EtcdRouteStore(fleet, dir);
            engine = new RouteEngine(store.boot(seed), store);
            store.start(engine);
            fleet.startProbe();
        }

        @Override
        public void close() {
            store.close();
            fleet.close();
        }
    }

    static RouteTable seed(long epoch) {
        return RouteTable.builder(Locality.of("sz", "sz1"), SLOTS)
                .addSet(new CellSet("sz-a", "sz", "sz1", SetState.UP, 1, List.of("127.0.0.1:1")))
                .addSet(new CellSet("sh-a", "sh", "sh1", SetState.UP, 1, List.of("127.0.0.1:2")))
                .apply(new RouteChange.MoveSlots(0, SLOTS / 2 - 1, "sz-a"))
                .apply(new RouteChange.MoveSlots(SLOTS / 2, SLOTS - 1, "sh-a"))
                .build(epoch);
    }

    static List<RouteChange> overrides(long firstUid, int count, String set) {
        List<RouteChange> changes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            changes.add(new RouteChange.SetOverride(firstUid + i * 7919L, set));
        }
        return changes;
    }

    static void awaitSame(Node expected, Node... others) {
        Await.until("the same routes everywhere", () -> {
            RouteTable want = expected.engine.current();
            for (Node n : others) {
                if (n.engine.current().epoch() != want.epoch()) {
                    return false;
                }
            }
            return true;
        });
        for (Node n : others) {
            assertThat(n.engine.current().sameRoutes(expected.engine.current())).as("routes at epoch "
                    + expected.engine.current().epoch()).isTrue();
        }
    }

    static List<KeyValue> keys(Client client, String prefix) {
        try {
            return client.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build())
                    .get(10, TimeUnit.SECONDS).getKvs();
        } catch (Exception e) {
            throw new IllegalStateException("etcd: " + e, e);
        }
    }

    static String key(KeyValue kv) {
        return kv.getKey().toString(StandardCharsets.UTF_8);
    }

    static String text(KeyValue kv) {
        return kv.getValue().toString(StandardCharsets.UTF_8);
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Test
    void aTableLargerThanOneEtcdValueTravelsAsBatchesAndIsAssembledByAGatewayThatStarts(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir);
             Node a = new Node(etcd.url(), PREFIX, dir.resolve("a"), seed(1));
             Node b = new Node(etcd.url(), PREFIX, dir.resolve("b"), seed(1));
             Client client = Client.builder().endpoints(etcd.url()).build()) {
            // 80,000 overrides: more than etcd's default request limit (1.5 MiB) holds as one value.
            for (int batch = 0; batch < 16; batch++) {
                a.engine.apply(overrides(1_000_000L + batch * 5_000L * 7919L, 5_000, batch % 2 == 0 ? "sh-a" : "sz-a"));
            }
            a.engine.apply(List.of(new RouteChange.MoveSlots(0, 99, "sh-a"), new RouteChange.RevokeUser(42, 4_000_000_000L),
                    new RouteChange.ClearOverride(1_000_000L), new RouteChange.SetSetState("sh-a", SetState.DRAINING)));
            assertThat(a.engine.current().overrideCount()).isEqualTo(79_999);
            awaitSame(a, b);

            // One batch is one etcd request: past etcd's limit it is refused whole, and nothing is published.
            long before = a.engine.current().epoch();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.engine.apply(overrides(900_000_000L, 100_000, "sz-a")))
                    .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("cannot save epoch " + (before + 1))
                    .hasMessageContaining("is more than etcd takes in one request");
            assertThat(a.engine.current().epoch()).isEqualTo(before);

            long total = 0;
            for (KeyValue kv : keys(client, PREFIX + "routes/")) {
                total += kv.getValue().size();
                assertThat(kv.getValue().size()).as(kv.getKey().toString(StandardCharsets.UTF_8)).isLessThan(1 << 20);
            }
            assertThat(total).as("bytes of routes in etcd").isGreaterThan(3L << 19);
            assertThat(keys(client, PREFIX + "routes/table")).as("no table as one value").isEmpty();

            try (Node c = new Node(etcd.url(), PREFIX, dir.resolve("c"), seed(1))) {
                assertThat(c.engine.current().epoch()).isEqualTo(a.engine.current().epoch());
                assertThat(c.engine.current().sameRoutes(a.engine.current())).isTrue();
                assertThat(c.engine.current().revokedUntil(42)).isEqualTo(4_000_000_000L);
                assertThat(c.engine.current().set(c.engine.current().indexOf("sh-a")).state()).isEqualTo(SetState.DRAINING);
            }
        }
    }

    @Test
    void theLogFoldsIntoANewBaseWhileTwoGatewaysKeepWriting(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir);
             Node a = new Node(etcd.url(), PREFIX, dir.resolve("a"), seed(1));
             Node b = new Node(etcd.url(), PREFIX, dir.resolve("b"), seed(1));
             Client client = Client.builder().endpoints(etcd.url()).build()) {
            a.store.foldAfter(4, Long.MAX_VALUE / 4);
            b.store.foldAfter(4, Long.MAX_VALUE / 4);
            for (int i = 0; i < 40; i++) {
                Node writer = i % 2 == 0 ? a : b;
                List<RouteChange> batch = new ArrayList<>(overrides(5_000_000L + i * 1_000L * 7919L, 1_000, i % 3 == 0 ? "sz-a" : "sh-a"));
                if (i % 5 == 0) {
                    // A head change now and then: a fold under way must not undo it.
                    batch.add(new RouteChange.MoveSlots(200 + i, 200 + i, i % 10 == 0 ? "sh-a" : "sz-a"));
                }
                if (i % 7 == 0) {
                    batch.add(new RouteChange.ClearOverride(5_000_000L + (i - 1) * 1_000L * 7919L));
                }
                writer.engine.apply(batch);
            }
            awaitSame(a, b);
            long epoch = a.engine.current().epoch();
            Await.until("a fold", () -> Long.parseLong(text(keys(client, PREFIX + "routes/base").get(0)).split(" ")[0]) > 1);
            Await.until("only the base's generation of user chunks", Await.DEFAULT, () -> {
                String generation = text(keys(client, PREFIX + "routes/base").get(0)).split(" ")[1];
                return keys(client, PREFIX + "routes/users/").stream()
                        .allMatch(kv -> key(kv).startsWith(PREFIX + "routes/users/" + generation + "/"));
            }, () -> keys(client, PREFIX + "routes/users/").stream().map(EtcdRouteStoreTest::key).toList());
            long baseEpoch = Long.parseLong(text(keys(client, PREFIX + "routes/base").get(0)).split(" ")[0]);
            for (KeyValue kv : keys(client, PREFIX + "routes/log/")) {
                long logged = Long.parseLong(key(kv).substring((PREFIX + "routes/log/").length()));
                assertThat(logged).as("batches kept after the fold at " + baseEpoch).isGreaterThanOrEqualTo(baseEpoch);
            }

            try (Node c = new Node(etcd.url(), PREFIX, dir.resolve("c"), seed(1))) {
                assertThat(c.engine.current().epoch()).isEqualTo(epoch);
                assertThat(c.engine.current().sameRoutes(a.engine.current())).isTrue();
                // The batches go on after the fold: all three apply them.
                a.engine.apply(List.of(new RouteChange.MoveSlots(300, 310, "sh-a")));
                b.engine.apply(overrides(9_000_000L, 10, "sz-a"));
                awaitSame(a, b, c);
            }
        }
    }

    @Test
    void aReplacedTableReachesEveryGatewayAndATableStoredAsOneValueIsTakenOver(@TempDir Path dir) throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(dir);
             Node a = new Node(etcd.url(), PREFIX, dir.resolve("a"), seed(1));
             Node b = new Node(etcd.url(), PREFIX, dir.resolve("b"), seed(1));
             Client client = Client.builder().endpoints(etcd.url()).build()) {
            a.engine.apply(overrides(77, 3_000, "sh-a"));
            awaitSame(a, b);
            RouteTable reloaded = RouteTable.builder(Locality.of("sz", "sz1"), SLOTS)
                    .addSet(new CellSet("sz-a", "sz", "sz1", SetState.UP, 1, List.of("127.0.0.1:3")))
                    .addSet(new CellSet("sh-b", "sh", "sh2", SetState.UP, 1, List.of("127.0.0.1:4")))
                    .apply(new RouteChange.MoveSlots(0, SLOTS - 1, "sh-b"))
                    .apply(new RouteChange.SetOverride(5, "sz-a"))
                    .build(1);
            RouteTable replaced = a.engine.replace(reloaded);
            awaitSame(a, b);
            assertThat(b.engine.current().overrideCount()).isEqualTo(1);
            assertThat(b.engine.current().indexOf("sh-b")).isNotNegative();
            assertThat(replaced.epoch()).isEqualTo(3);
            Await.until("the replaced generation deleted", () -> keys(client, PREFIX + "routes/users/").size() == 1);

            // A store of an earlier version kept the table as one value: the first gateway stores it in parts.
            String older = "/cellgate/older/";
            RouteTable stored = RouteTable.builder(Locality.of("sz", "sz1"), SLOTS)
                    .addSet(new CellSet("sz-a", "sz", "sz1", SetState.UP, 1, List.of("127.0.0.1:5")))
                    .apply(new RouteChange.MoveSlots(0, SLOTS - 1, "sz-a"))
                    .apply(new RouteChange.SetOverride(9, "sz-a"))
                    .build(7);
            client.getKVClient().put(bytes(older + "routes/epoch"), bytes("7")).get(10, TimeUnit.SECONDS);
            client.getKVClient().put(bytes(older + "routes/table"), bytes(stored.encode())).get(10, TimeUnit.SECONDS);
            try (Node d = new Node(etcd.url(), older, dir.resolve("d"), seed(1));
                 Node e = new Node(etcd.url(), older, dir.resolve("e"), seed(1))) {
                assertThat(d.engine.current().epoch()).isEqualTo(7);
                assertThat(d.engine.current().sameRoutes(stored)).isTrue();
                assertThat(e.engine.current().sameRoutes(stored)).isTrue();
                assertThat(keys(client, older + "routes/table")).isEmpty();
                assertThat(keys(client, older + "routes/base")).hasSize(1);
                d.engine.apply(List.of(new RouteChange.ClearOverride(9)));
                awaitSame(d, e);
            }
        }
    }
}
