package io.cellgate.server.internal;

import io.cellgate.protocol.LoginToken;
import io.cellgate.server.config.GatewayConfig;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * What every connection's handlers share: configuration, the command table, the upstreams and the
 * event loops. The command table is a snapshot behind one volatile field.
 */
public final class GatewayContext {
    final GatewayConfig config;
    final Upstreams upstreams;
    private final Map<EventLoop, Integer> loopIndex = new IdentityHashMap<>();
    private final FastThreadLocal<LoginToken> tokens;
    private volatile CommandTable commands;

    public GatewayContext(GatewayConfig config, CommandTable commands, Upstreams upstreams, EventLoop[] loops) {
        this.config = config;
        this.commands = commands;
        this.upstreams = upstreams;
        for (int i = 0; i < loops.length; i++) {
            loopIndex.put(loops[i], i);
        }
        byte[] secret = config.tokenSecret().clone();
        // One Mac per event loop: Mac is not thread-safe and login verification must not lock.
        this.tokens = new FastThreadLocal<>() {
            @Override
            protected LoginToken initialValue() {
                return new LoginToken(secret);
            }
        };
    }

    CommandTable commands() {
        return commands;
    }

    /** Publishes a new command table; requests already dispatched keep the one they read. */
    public void commands(CommandTable next) {
        this.commands = next;
    }

    LoginToken tokens() {
        return tokens.get();
    }

    int loopIndex(EventLoop loop) {
        Integer index = loopIndex.get(loop);
        if (index == null) {
            throw new IllegalStateException("not one of the gateway's event loops: " + loop);
        }
        return index;
    }
}
