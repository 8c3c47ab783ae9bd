package io.cellgate.route;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Holds the current {@link RouteTable} and is its single writer.
 *
 * <p>Threading: {@link #current()} is one volatile read and may be called from any thread, on every
 * request. {@link #apply} and {@link #replace} build the next snapshot off the hot path; they are
 * serialized by this object's monitor (writers are rare: operators, the store's watch), and publish
 * through the one volatile field. Listeners run on the writer's thread after the publish.
 */
public final class RouteEngine {
    private volatile RouteTable current;
    private final List<Consumer<RouteTable>> listeners = new CopyOnWriteArrayList<>();

    public RouteEngine(RouteTable initial) {
        this.current = Objects.requireNonNull(initial, "initial");
    }

    /** The snapshot in use. Read it once per request into a local. */
    public RouteTable current() {
        return current;
    }

    /**
     * Applies {@code changes} as one batch: a new snapshot with epoch + 1.
     *
     * @return the published snapshot
     * @throws RouteException when a change is invalid; nothing is published then
     */
    public synchronized RouteTable apply(List<? extends RouteChange> changes) {
        RouteTable.Builder builder = current.toBuilder();
        for (RouteChange change : changes) {
            builder.apply(change);
        }
        return publish(builder.build(current.epoch() + 1));
    }

    /**
     * Replaces the whole table (e.g. a reloaded configuration), keeping epochs monotonic: the new
     * snapshot's epoch is the larger of its own and the current one + 1.
     */
    public synchronized RouteTable replace(RouteTable next) {
        long epoch = Math.max(next.epoch(), current.epoch() + 1);
        return publish(next.toBuilder().build(epoch));
    }

    /** {@code listener} is called with every snapshot published after this call. */
    public void addListener(Consumer<RouteTable> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    private RouteTable publish(RouteTable next) {
        current = next;
        for (Consumer<RouteTable> listener : listeners) {
            listener.accept(next);
        }
        return next;
    }
}
