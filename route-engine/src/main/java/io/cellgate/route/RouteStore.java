package io.cellgate.route;

import java.io.IOException;
import java.util.List;

/**
 * Durable storage of the route table. {@link RouteEngine} writes every batch here before it publishes
 * it, so a change that was answered with its epoch survives a restart. The embedded implementation
 * is {@link FileRouteStore}; a distributed store implements the same contract.
 *
 * <p>Threading: called by the engine's single writer only.
 */
public interface RouteStore {

    /** What {@link #load} found: the table (null when the store is empty) and what it had to skip. */
    record Loaded(RouteTable table, List<String> problems) {
    }

    /**
     * Loads the last complete state. A torn or corrupt part is skipped and reported in
     * {@link Loaded#problems()}, never thrown: the gateway starts from the last good state.
     *
     * @param locality the gateway's city, IDC and read preference (not stored: they belong to the
     *                 gateway, not to the routes)
     */
    Loaded load(Locality locality) throws IOException;

    /**
     * Makes {@code changes}, which produced {@code next}, durable. A store shared by several writers
     * refuses the batch with {@link RouteConflictException} when it no longer holds epoch
     * {@code next.epoch() - 1}: another writer changed the routes first.
     */
    void append(List<? extends RouteChange> changes, RouteTable next) throws IOException;

    /** Makes the whole {@code table} durable, replacing what was stored. */
    void replace(RouteTable table) throws IOException;

    /**
     * Like {@link #replace(RouteTable)}, made against {@code previousEpoch}: a store shared by several
     * writers refuses it with {@link RouteConflictException} when it holds another epoch by now. The
     * embedded store has one writer and ignores {@code previousEpoch}.
     */
    default void replace(long previousEpoch, RouteTable table) throws IOException {
        replace(table);
    }
}
