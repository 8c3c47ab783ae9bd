package io.cellgate.server.internal;

/**
 * A source of AO endpoints per set. It applies what it learns through the route engine (so the
 * route store keeps the last-known-good copy) and says how fresh that is. The embedded source is
 * {@link EndpointsFileWatcher}; a distributed registry implements the same.
 */
public interface EndpointDiscovery extends AutoCloseable {
    /** True while the source cannot be read and the last known endpoints are in use. */
    boolean stale();

    /** Milliseconds since the endpoints in use were last confirmed by the source. */
    long ageMillis();

    @Override
    void close();
}
