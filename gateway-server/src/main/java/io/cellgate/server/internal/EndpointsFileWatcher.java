package io.cellgate.server.internal;

import io.cellgate.route.CellSet;
import io.cellgate.route.RouteChange;
import io.cellgate.route.RouteEngine;
import io.cellgate.route.RouteTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Set-scoped discovery from a watched file, the embedded discovery source: a YAML mapping of set
 * name to its AO endpoints ({@code sets: {sz-a: [10.0.0.1:7000, ...]}}). Polled on its own thread
 * ({@code cellgate-discovery}); a change is applied as one route batch (so it is stored in the route
 * store, the last-known-good copy, and applies without dropping a connection). When the file cannot
 * be read, the gateway keeps serving the endpoints it knows and reports how stale they are.
 */
public final class EndpointsFileWatcher implements EndpointDiscovery {
    private static final Logger LOG = Logger.getLogger(EndpointsFileWatcher.class.getName());

    private final Path file;
    private final RouteEngine routes;
    private final ScheduledExecutorService timer;
    private volatile long lastReadMillis;
    private volatile boolean stale = true;
    private FileTime seenModified;
    private String lastProblem;

    /**
     * @param knownSinceMillis when the endpoints in use were last confirmed (e.g. the route store's
     *                         last write); the age is measured from it until the file is read
     */
    public EndpointsFileWatcher(Path file, RouteEngine routes, Duration poll, long knownSinceMillis) {
        this.file = file;
        this.routes = routes;
        this.lastReadMillis = knownSinceMillis;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cellgate-discovery");
            t.setDaemon(true);
            return t;
        });
        long every = poll.toMillis();
        timer.scheduleWithFixedDelay(this::poll, 0, every, TimeUnit.MILLISECONDS);
    }

    /** True while the endpoints in use could not be confirmed from the file. */
    @Override
    public boolean stale() {
        return stale;
    }

    /** Milliseconds since the endpoints in use were last confirmed. */
    @Override
    public long ageMillis() {
        return System.currentTimeMillis() - lastReadMillis;
    }

    private void poll() {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            Map<String, List<String>> changed = modified.equals(seenModified) ? null : read();
            // Current from the moment the file is read: whoever sees the new endpoints applied also sees
            // them as current (a failed apply below makes them stale again).
            lastReadMillis = System.currentTimeMillis();
            if (stale) {
                stale = false;
                LOG.info(() -> "discovery: " + file + " read; endpoints are current");
            }
            if (changed != null) {
                apply(changed);
                seenModified = modified;
            }
            lastProblem = null;
        } catch (IOException | RuntimeException e) {
            String problem = e instanceof java.nio.file.NoSuchFileException ? "missing" : e.getMessage();
            stale = true;
            if (!problem.equals(lastProblem)) {
                lastProblem = problem;
                LOG.warning(() -> "discovery: cannot read " + file + " (" + problem + "); serving the last known endpoints,"
                        + " stale for " + ageMillis() / 1000 + " s");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, List<String>> read() throws IOException {
        Object parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file, StandardCharsets.UTF_8));
        if (!(parsed instanceof Map<?, ?> root) || !(root.get("sets") instanceof Map<?, ?> sets)) {
            throw new IOException("expected a mapping with a 'sets' mapping of set name to endpoint list");
        }
        Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<?, ?> e : sets.entrySet()) {
            if (!(e.getValue() instanceof List<?> list)) {
                throw new IOException("sets." + e.getKey() + ": expected a list of host:port");
            }
            List<String> endpoints = new ArrayList<>();
            for (Object o : list) {
                String endpoint = String.valueOf(o);
                String problem = io.cellgate.route.Endpoint.problem(endpoint);
                if (problem != null) {
                    // The whole version is refused: applying part of an operator's edit would be a guess.
                    throw new IOException("sets." + e.getKey() + ": endpoint " + endpoint + " is refused (" + problem
                            + "; expected: host:port with a port 1-65535)");
                }
                endpoints.add(endpoint);
            }
            out.put(String.valueOf(e.getKey()), endpoints);
        }
        return out;
    }

    private void apply(Map<String, List<String>> endpoints) {
        RouteTable table = routes.current();
        List<RouteChange> changes = new ArrayList<>();
        endpoints.forEach((set, eps) -> {
            int index = table.indexOf(set);
            if (index < 0) {
                LOG.warning(() -> "discovery: " + file + " names unknown set " + set + "; ignored");
                return;
            }
            CellSet current = table.set(index);
            if (!current.endpoints().equals(eps)) {
                changes.add(new RouteChange.SetEndpoints(set, eps));
            }
        });
        if (!changes.isEmpty()) {
            RouteTable next = routes.apply(changes);
            LOG.info(() -> "discovery: endpoints of " + changes.size() + " sets changed, route epoch " + next.epoch());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
