package io.cellgate.server.fleet;

import io.cellgate.route.CellSet;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteTable;
import io.cellgate.server.internal.EndpointDiscovery;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.logging.Logger;

/**
 * AO endpoints from the fleet's registry: each live AO holds {@code endpoints/SET/HOST:PORT} on its
 * lease (see {@link EndpointRegistration}). The registry reads them all, then watches for changes,
 * and applies a set's registered endpoints as one route batch when they differ from the routes: so
 * a set scales out or in without touching a gateway, and the route store keeps the last-known-good
 * copy. Every gateway of the fleet sees the same change; the first write wins and the others find
 * nothing left to change.
 *
 * <p>A set the registry never named keeps its configured endpoints. When the last endpoint of a set
 * leaves the registry, the gateway keeps the last known ones and says so: an AO fleet that lost
 * its leases (e.g. cut off from etcd) is more likely alive than gone; operators take a set down
 * with {@code gatewayctl sets down}.
 *
 * <p>Threading: everything runs on the fleet thread.
 */
public final class EtcdEndpointRegistry implements EndpointDiscovery {
    private static final Logger LOG = Logger.getLogger(EtcdEndpointRegistry.class.getName());
    private static final String UNDER = "endpoints/";

    private final EtcdFleet fleet;
    private final RouteEngine routes;
    private final Map<String, Set<String>> bySet = new TreeMap<>();
    private final Set<String> warned = new HashSet<>();
    private long revision;
    private Watch.Watcher watcher;
    private boolean applyPending;
    private volatile boolean closed;

    public EtcdEndpointRegistry(EtcdFleet fleet, RouteEngine routes) {
        this.fleet = fleet;
        this.routes = routes;
        fleet.onReconnect(this::resync);
        fleet.execute(this::resync);
    }

    /** Reads every registered endpoint, applies them, and watches from there. */
    private void resync() {
        if (closed) {
            return;
        }
        GetResponse got;
        try {
            got = fleet.await(fleet.client().getKVClient().get(fleet.key(UNDER), GetOption.builder().isPrefix(true).build()));
        } catch (IOException e) {
            LOG.warning(() -> "discovery: cannot read the registry (" + e.getMessage() + "); serving the last known endpoints");
            return;
        }
        bySet.clear();
        for (KeyValue kv : got.getKvs()) {
            register(fleet.relative(kv.getKey(), UNDER), true);
        }
        revision = got.getHeader().getRevision();
        apply();
        if (watcher != null) {
            watcher.close();
        }
        watcher = fleet.client().getWatchClient().watch(fleet.key(UNDER),
                WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                Watch.listener(response -> {
                    List<WatchEvent> events = response.getEvents();
                    fleet.execute(() -> onEvents(events));
                }, error -> fleet.execute(() -> {
                    if (!closed) {
                        LOG.warning(() -> "discovery: registry watch ended (" + error.getMessage() + "); reading it again");
                        fleet.schedule(this::resync, fleet.config().probeInterval());
                    }
                })));
    }

    private void onEvents(List<WatchEvent> events) {
        for (WatchEvent event : events) {
            KeyValue kv = event.getKeyValue();
            revision = Math.max(revision, kv.getModRevision());
            register(fleet.relative(kv.getKey(), UNDER), event.getEventType() == WatchEvent.EventType.PUT);
        }
        // Many events arrive together when a set scales: apply them as one batch.
        if (!applyPending) {
            applyPending = true;
            fleet.execute(() -> {
                applyPending = false;
                apply();
            });
        }
    }

    private void register(String setAndAddress, boolean present) {
        int slash = setAndAddress.indexOf('/');
        if (slash <= 0 || slash == setAndAddress.length() - 1) {
            if (warned.add(setAndAddress)) {
                LOG.warning(() -> "discovery: registry key endpoints/" + setAndAddress + " is not SET/HOST:PORT; ignored");
            }
            return;
        }
        String set = setAndAddress.substring(0, slash);
        String address = setAndAddress.substring(slash + 1);
        String problem = io.cellgate.route.Endpoint.problem(address);
        if (problem != null) {
            // One AO's bad registration must not stop the set's other endpoints (or the routes) from changing.
            if (present && warned.add(setAndAddress)) {
                LOG.warning(() -> "discovery: registry key endpoints/" + setAndAddress + " is refused: " + problem
                        + " (expected: SET/HOST:PORT, a port 1-65535)");
            }
            return;
        }
        Set<String> endpoints = bySet.computeIfAbsent(set, s -> new TreeSet<>());
        if (present) {
            endpoints.add(address);
        } else {
            endpoints.remove(address);
        }
    }

    private void apply() {
        RouteTable table = routes.current();
        List<RouteChange> changes = new ArrayList<>();
        bySet.forEach((set, registered) -> {
            int index = table.indexOf(set);
            if (index < 0) {
                if (warned.add("set:" + set)) {
                    LOG.warning(() -> "discovery: the registry names unknown set " + set + "; ignored");
                }
                return;
            }
            CellSet current = table.set(index);
            if (registered.isEmpty()) {
                if (warned.add("empty:" + set)) {
                    LOG.warning(() -> "discovery: no endpoint of set " + set + " is registered; keeping the last known "
                            + current.endpoints());
                }
                return;
            }
            warned.remove("empty:" + set);
            if (!new TreeSet<>(current.endpoints()).equals(registered)) {
                changes.add(new RouteChange.SetEndpoints(set, List.copyOf(registered)));
            }
        });
        if (changes.isEmpty()) {
            return;
        }
        try {
            RouteTable next = routes.apply(changes);
            LOG.info(() -> "discovery: endpoints of " + changes.size() + " sets changed in the registry, route epoch " + next.epoch());
        } catch (UncheckedIOException e) {
            LOG.warning(() -> "discovery: cannot store the registry's endpoints (" + e.getMessage() + "); retrying when etcd answers");
        } catch (io.cellgate.route.RouteException e) {
            LOG.warning(() -> "discovery: the registry's endpoints are refused (" + e.getMessage() + "); keeping epoch "
                    + routes.current().epoch());
        }
    }

    @Override
    public boolean stale() {
        return fleet.stale();
    }

    @Override
    public long ageMillis() {
        return fleet.ageMillis();
    }

    @Override
    public void close() {
        fleet.executeAndWait(() -> {
            closed = true;
            if (watcher != null) {
                watcher.close();
            }
        });
    }
}
