package io.cellgate.server.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * The open client connections, in slots per event loop. Each loop alone adds and removes its own
 * connections (one is added as its pipeline is built and leaves as it closes, both on its loop); any
 * thread reads. A connection keeps its slot for its life and freed slots are reused, so an iteration
 * sees every connection open throughout it, and maybe some that opened or closed meanwhile, as a
 * concurrent map's would. Not a {@code ChannelGroup}: a group keeps a map node per connection, about
 * 40 bytes of what an idle connection holds; here a connection costs its slot and the slot number its
 * frame step keeps ({@link ClientFrameSource#clientSlot}).
 */
final class ClientChannels implements Iterable<Channel> {
    private final EventLoop[] loops;
    private final Slots[] slots;
    /** One listener for every connection's close: it finds the slot through the frame step. */
    private final ChannelFutureListener remover = future -> remove(future.channel());

    ClientChannels(EventLoop[] loops) {
        this.loops = loops.clone();
        this.slots = new Slots[loops.length];
        for (int i = 0; i < loops.length; i++) {
            slots[i] = new Slots();
        }
    }

    /** One loop's connections. Written by that loop only. */
    private static final class Slots {
        /** Replaced by a copy twice as long when full; its elements are read and written with volatile semantics. */
        volatile AtomicReferenceArray<Channel> channels = new AtomicReferenceArray<>(64);
        /** Slots below this one have been used. */
        private int used;
        /** Freed slots, reused first. */
        private int[] free = new int[16];
        private int freeCount;
        /** Connections held: counted by the loop, published for the readers. */
        private int held;
        volatile int count;

        int add(Channel ch) {
            int slot = freeCount > 0 ? free[--freeCount] : used++;
            AtomicReferenceArray<Channel> a = channels;
            if (slot >= a.length()) {
                // Readers still iterating the old array see every connection it held; new ones go here.
                AtomicReferenceArray<Channel> grown = new AtomicReferenceArray<>(a.length() * 2);
                for (int i = 0; i < a.length(); i++) {
                    grown.setPlain(i, a.getPlain(i));
                }
                channels = grown;
                a = grown;
            }
            a.set(slot, ch);
            count = ++held;
            return slot;
        }

        void remove(int slot) {
            channels.set(slot, null);
            if (freeCount == free.length) {
                free = java.util.Arrays.copyOf(free, free.length * 2);
            }
            free[freeCount++] = slot;
            count = --held;
        }

        /** The slot of {@code ch}, found by looking; -1 when it holds none. */
        int find(Channel ch) {
            AtomicReferenceArray<Channel> a = channels;
            for (int i = 0; i < used; i++) {
                if (a.get(i) == ch) {
                    return i;
                }
            }
            return -1;
        }
    }

    private Slots slotsOf(EventLoop loop) {
        for (int i = 0; i < loops.length; i++) {
            if (loops[i] == loop) {
                return slots[i];
            }
        }
        throw new IllegalStateException("not one of the gateway's event loops: " + loop);
    }

    /**
     * Adds client connection {@code ch}, whose frame step is {@code source}; it leaves by itself when it
     * closes. On the connection's loop.
     */
    void add(Channel ch, ClientFrameSource source) {
        assert ch.eventLoop().inEventLoop();
        source.clientSlot(slotsOf(ch.eventLoop()).add(ch));
        ch.closeFuture().addListener(remover);
    }

    /** On the connection's loop (its close future's listeners run there). */
    private void remove(Channel ch) {
        Slots s = slotsOf(ch.eventLoop());
        ClientFrameSource source = ClientFrameSource.of(ch.pipeline());
        int slot = source != null ? source.clientSlot() : -1;
        if (slot < 0 || slot >= s.channels.length() || s.channels.get(slot) != ch) {
            // The frame step is always there while the connection is open; looking is the safe way if not.
            slot = s.find(ch);
        }
        if (slot >= 0) {
            s.remove(slot);
        }
    }

    /** Open connections; from any thread. */
    int size() {
        int n = 0;
        for (Slots s : slots) {
            n += s.count;
        }
        return n;
    }

    /** Each open connection of {@code loop}. On that loop (or any thread, as {@link #iterator}). */
    void forEachOn(EventLoop loop, Consumer<Channel> action) {
        AtomicReferenceArray<Channel> a = slotsOf(loop).channels;
        for (int i = 0; i < a.length(); i++) {
            Channel ch = a.get(i);
            if (ch != null) {
                action.accept(ch);
            }
        }
    }

    /** The open connections of every loop; from any thread. */
    @Override
    public Iterator<Channel> iterator() {
        return new Iterator<>() {
            private int loop;
            private AtomicReferenceArray<Channel> array = slots[0].channels;
            private int index;
            private Channel next = advance();

            private Channel advance() {
                while (true) {
                    while (index < array.length()) {
                        Channel ch = array.get(index++);
                        if (ch != null) {
                            return ch;
                        }
                    }
                    if (++loop >= slots.length) {
                        return null;
                    }
                    array = slots[loop].channels;
                    index = 0;
                }
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public Channel next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                Channel ch = next;
                next = advance();
                return ch;
            }
        };
    }
}
