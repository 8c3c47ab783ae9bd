package io.cellgate.server.fleet;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * This gateway's registration in the fleet ({@code gateways/ADDRESS} on a lease, value
 * {@code city=.. idc=.. state=serving|draining load=.. connections=.. epoch=.. fenced-writes=..}) and its view of the
 * other members, read back on every renewal. The view feeds {@code gatewayctl status} and the
 * alternates named in go_away frames: live peers in this gateway's city, least loaded first.
 */
public final class FleetMembership implements AutoCloseable {

    /**
     * A gateway of the fleet as its registration describes it.
     *
     * @param epoch        the route epoch it has applied
     * @param fencedWrites its writes in flight to cities whose writes its routes forbid (a city switch waits for 0)
     */
    public record Member(String address, String city, String idc, String state, double load, int connections, long epoch,
                         long fencedWrites, boolean self) {
    }

    private final EtcdFleet fleet;
    private final String address;
    private final String city;
    private final LeasedKey registration;
    private final Consumer<List<String>> alternatesListener;
    private volatile List<Member> members = List.of();
    private volatile boolean draining;
    private volatile boolean closed;
    /** A {@link #publishSoon} is queued: later ones before it runs are the same write. */
    private final java.util.concurrent.atomic.AtomicBoolean publishPending = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * @param describe           the registration's value without the state (load, connections, epoch...)
     * @param alternatesListener gets the alternates after every renewal (on the fleet thread)
     */
    public FleetMembership(EtcdFleet fleet, String address, String city, String idc, Supplier<String> describe,
                           Consumer<List<String>> alternatesListener) {
        this.fleet = fleet;
        this.address = address;
        this.city = city;
        this.alternatesListener = alternatesListener;
        this.registration = new LeasedKey(fleet.client(), fleet.key("gateways/" + address),
                () -> "city=" + city + " idc=" + idc + " state=" + (draining ? "draining" : "serving") + " " + describe.get(),
                fleet.config().leaseTtl(), fleet.config().timeout());
        fleet.execute(this::refresh);
    }

    private void refresh() {
        if (closed) {
            return;
        }
        registration.refresh();
        try {
            members = readMembers();
            alternatesListener.accept(alternates());
        } catch (IOException e) {
            // Staleness is reported by the fleet's probe; the last view stays.
        }
        fleet.schedule(this::refresh, registration.period());
    }

    /**
     * The fleet as etcd holds it now (a read, not the view of the last renewal), sorted by address.
     * Blocks up to the fleet's timeout: call it from a control thread, never an event loop.
     */
    public List<Member> readMembers() throws IOException {
        List<Member> seen = new ArrayList<>();
        for (KeyValue kv : fleet.await(fleet.client().getKVClient().get(fleet.key("gateways/"),
                GetOption.builder().isPrefix(true).build())).getKvs()) {
            seen.add(parse(fleet.relative(kv.getKey(), "gateways/"), EtcdFleet.text(kv.getValue())));
        }
        seen.sort(Comparator.comparing(Member::address));
        return List.copyOf(seen);
    }

    /**
     * Writes this gateway's registration again soon (on the fleet thread), without renewing the
     * lease: for a change others wait on, such as a new route epoch during a city switch.
     */
    public void publishSoon() {
        if (publishPending.compareAndSet(false, true)) {
            fleet.execute(() -> {
                publishPending.set(false);
                if (!closed) {
                    registration.publish();
                }
            });
        }
    }

    private Member parse(String memberAddress, String value) {
        Map<String, String> fields = new HashMap<>();
        for (String token : value.split(" ")) {
            int eq = token.indexOf('=');
            if (eq > 0) {
                fields.put(token.substring(0, eq), token.substring(eq + 1));
            }
        }
        return new Member(memberAddress, fields.getOrDefault("city", "?"), fields.getOrDefault("idc", "?"),
                fields.getOrDefault("state", "?"), number(fields.get("load")), (int) number(fields.get("connections")),
                (long) number(fields.get("epoch")), (long) number(fields.get("fenced-writes")), memberAddress.equals(address));
    }

    private static double number(String s) {
        try {
            return s == null ? 0 : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The fleet as last read from etcd, this gateway included. */
    public List<Member> members() {
        return members;
    }

    /** Serving peers in this gateway's city, least loaded first. */
    public List<String> alternates() {
        return members.stream()
                .filter(m -> !m.self() && m.city().equals(city) && m.state().equals("serving"))
                .sorted(Comparator.comparingDouble(Member::load))
                .map(Member::address)
                .toList();
    }

    /** This gateway's registered address. */
    public String address() {
        return address;
    }

    /** Marks this gateway draining in its registration, so peers stop naming it as an alternate. */
    public void draining() {
        draining = true;
        fleet.execute(registration::refresh);
    }

    /** Leaves the fleet at once (revokes the lease). */
    @Override
    public void close() {
        fleet.executeAndWait(() -> {
            closed = true;
            registration.close();
        });
    }
}
