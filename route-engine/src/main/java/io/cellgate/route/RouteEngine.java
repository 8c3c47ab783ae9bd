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
    /** Writes tried against a shared store that other writers keep changing, before giving up. */
    private static final int MAX_ATTEMPTS = 5;

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
     * Applies {@code changes} as one batch: a new snapshot with epoch + 1. When a shared store reports
     * that another writer got there first, the engine takes up the store's routes and applies the
     * batch again on top of them (a batch that changes nothing there publishes nothing).
     *
     * @return the published snapshot
     * @throws RouteException when a change is invalid; nothing is published then
     * @throws UncheckedIOException when the store cannot make the batch durable; nothing is published
     */
    public synchronized RouteTable apply(List<? extends RouteChange> changes) {
        return apply(0, changes);
    }

    /**
     * Replaces the whole table (e.g. a reloaded configuration), keeping epochs monotonic: the new
     * snapshot's epoch is the larger of its own and the current one + 1. City fences never go down:
     * the current table's are kept where they are higher.
     */
    public synchronized RouteTable replace(RouteTable next) {
        return replace(0, next);
    }

    /**
     * Like {@link #apply}, but only when the current epoch is {@code expectedEpoch} (0 = any):
     * compare-and-swap, so two operators cannot overwrite each other silently. With a shared store the
     * comparison is made by the store too, against what every writer has written.
     *
     * @throws RouteConflictException when the epoch moved on; it names the epoch now current
     */
    public synchronized RouteTable apply(long expectedEpoch, List<? extends RouteChange> changes) {
        for (int attempt = 1; ; attempt++) {
            requireEpoch(expectedEpoch);
            RouteTable base = current;
            RouteTable next = preview(changes);
            if (attempt > 1 && next.sameRoutes(base)) {
                return base;
            }
            try {
                if (store != null) {
                    store.append(changes, next);
                }
                return publish(next);
            } catch (RouteConflictException e) {
                catchUp(e, expectedEpoch, attempt);
            } catch (IOException e) {
                throw new UncheckedIOException("route store: cannot save epoch " + next.epoch() + ": " + e.getMessage(), e);
            }
        }
    }

    /** Like {@link #replace}, but only when the current epoch is {@code expectedEpoch} (0 = any). */
    public synchronized RouteTable replace(long expectedEpoch, RouteTable next) {
        for (int attempt = 1; ; attempt++) {
            requireEpoch(expectedEpoch);
            RouteTable base = current;
            RouteTable table = next.toBuilder().keepFences(base).build(Math.max(next.epoch(), base.epoch() + 1));
            try {
                if (store != null) {
                    store.replace(base.epoch(), table);
                }
                return publish(table);
            } catch (RouteConflictException e) {
                catchUp(e, expectedEpoch, attempt);
            } catch (IOException e) {
                throw new UncheckedIOException("route store: cannot save epoch " + table.epoch() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * After the store refused a write because another writer changed the routes: takes up what the
     * store holds now, then rethrows when the caller asked for a specific epoch (or after a few tries).
     */
    private void catchUp(RouteConflictException conflict, long expectedEpoch, int attempt) {
        RouteTable before = current;
        try {
            RouteStore.Loaded latest = store.load(before.locality());
            if (latest.table() != null) {
                adopt(latest.table());
            }
        } catch (IOException e) {
            conflict.addSuppressed(e);
            throw conflict;
        }
        if (expectedEpoch != 0) {
            throw new RouteConflictException(expectedEpoch, Math.max(conflict.actual(), current.epoch()));
        }
        if (attempt >= MAX_ATTEMPTS) {
            throw conflict;
        }
    }

    /**
     * Publishes {@code table}, written to the store by another writer, when it is newer than the
     * current snapshot; it is not written back. Returns true when it was published.
     */
    public synchronized boolean adopt(RouteTable table) {
        if (table.epoch() <= current.epoch()) {
            return false;
        }
        publish(table);
        return true;
    }

    /** The snapshot {@code changes} would produce, without publishing or storing it. */
    public synchronized RouteTable preview(List<? extends RouteChange> changes) {
        return current.applied(changes, current.epoch() + 1);
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
