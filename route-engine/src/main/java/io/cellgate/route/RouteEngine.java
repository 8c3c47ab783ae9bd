package io.cellgate.route;

import java.io.IOException;
import java.io.UncheckedIOException;
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
    private final RouteStore store;
    private final List<Consumer<RouteTable>> listeners = new CopyOnWriteArrayList<>();

    /** An engine whose changes live in memory only. */
    public RouteEngine(RouteTable initial) {
        this(initial, null);
    }

    /**
     * An engine that makes every change durable in {@code store} before publishing it.
     * {@code initial} should be what the store holds (or will hold: see {@link RouteStore#replace}).
     */
    public RouteEngine(RouteTable initial, RouteStore store) {
        this.current = Objects.requireNonNull(initial, "initial");
        this.store = store;
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
     * @throws UncheckedIOException when the store cannot make the batch durable; nothing is published
     */
    public synchronized RouteTable apply(List<? extends RouteChange> changes) {
        RouteTable.Builder builder = current.toBuilder();
        for (RouteChange change : changes) {
            builder.apply(change);
        }
        RouteTable next = builder.build(current.epoch() + 1);
        if (store != null) {
            try {
                store.append(changes, next);
            } catch (IOException e) {
                throw new UncheckedIOException("route store: cannot save epoch " + next.epoch(), e);
            }
        }
        return publish(next);
    }

    /**
     * Replaces the whole table (e.g. a reloaded configuration), keeping epochs monotonic: the new
     * snapshot's epoch is the larger of its own and the current one + 1.
     */
    public synchronized RouteTable replace(RouteTable next) {
        long epoch = Math.max(next.epoch(), current.epoch() + 1);
        RouteTable table = next.toBuilder().build(epoch);
        if (store != null) {
            try {
                store.replace(table);
            } catch (IOException e) {
                throw new UncheckedIOException("route store: cannot save epoch " + table.epoch(), e);
            }
        }
        return publish(table);
    }

    /**
     * Like {@link #apply}, but only when the current epoch is {@code expectedEpoch} (0 = any):
     * compare-and-swap, so two operators cannot overwrite each other silently.
     *
     * @throws RouteConflictException when the epoch moved on
     */
    public synchronized RouteTable apply(long expectedEpoch, List<? extends RouteChange> changes) {
        requireEpoch(expectedEpoch);
        return apply(changes);
    }

    /** Like {@link #replace}, but only when the current epoch is {@code expectedEpoch} (0 = any). */
    public synchronized RouteTable replace(long expectedEpoch, RouteTable next) {
        requireEpoch(expectedEpoch);
        return replace(next);
    }

    /** The snapshot {@code changes} would produce, without publishing or storing it. */
    public synchronized RouteTable preview(List<? extends RouteChange> changes) {
        RouteTable.Builder builder = current.toBuilder();
        for (RouteChange change : changes) {
            builder.apply(change);
        }
        return builder.build(current.epoch() + 1);
    }

    private void requireEpoch(long expectedEpoch) {
        if (expectedEpoch != 0 && expectedEpoch != current.epoch()) {
            throw new RouteConflictException(expectedEpoch, current.epoch());
        }
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
