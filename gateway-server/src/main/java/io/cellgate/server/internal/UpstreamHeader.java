package io.cellgate.server.internal;

import io.grpc.Metadata;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

/**
 * The headers the gateway adds to each AO call (docs/PROTOCOL.md, "Commands"), by name for both
 * upstream clients: gRPC's {@link Metadata} key and the HTTP/2 header name of the lean client. A call's
 * values are a {@code String[]} indexed by ordinal (null: not sent), filled once by the dispatcher and
 * written by whichever client carries the call.
 */
// Metadata.Key and AsciiString are immutable; they are only not annotated so.
@SuppressWarnings("ImmutableEnumChecker")
enum UpstreamHeader {
    UID("x-cellgate-uid", true),
    CMD("x-cellgate-cmd", false),
    DYE("x-cellgate-dye", false),
    TRACE_ID("x-cellgate-trace-id", true),
    TRACEPARENT("traceparent", true),
    DEVICE("x-cellgate-device", false),
    DEVICE_ID("x-cellgate-device-id", false),
    APP_VERSION("x-cellgate-app-version", false),
    ROUTE_EPOCH(io.cellgate.fence.FenceHeaders.ROUTE_EPOCH.name(), false),
    ROUTE_CLASS(io.cellgate.fence.FenceHeaders.ROUTE_CLASS.name(), false),
    FENCE_EPOCH(io.cellgate.fence.FenceHeaders.FENCE_EPOCH.name(), false),
    SET("x-cellgate-set", false);

    private static final UpstreamHeader[] ALL = values();

    final Metadata.Key<String> key;
    final AsciiString name;
    /**
     * Its value is new on (nearly) every call: the lean client sends it without adding it to the HPACK
     * table, where it would only push out the values that repeat (set, epoch, command) for nothing.
     */
    final boolean perCall;

    UpstreamHeader(String name, boolean perCall) {
        this.key = Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
        this.name = AsciiString.cached(name);
        this.perCall = perCall;
    }

    /** A call's values, indexed by ordinal. */
    static String[] newValues() {
        return new String[ALL.length];
    }

    static Metadata metadata(String[] values) {
        Metadata metadata = new Metadata();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                metadata.put(ALL[i].key, values[i]);
            }
        }
        return metadata;
    }

    static void addTo(Http2Headers headers, String[] values) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                headers.add(ALL[i].name, values[i]);
            }
        }
    }

    /** Whether {@code name} is one of the per-call headers (HPACK asks for every header of every call). */
    static boolean perCall(CharSequence name) {
        // The names added are these very instances, and the headers hand them back as added.
        for (UpstreamHeader h : ALL) {
            if (h.name == name) {
                return h.perCall;
            }
        }
        if (name.length() > 0 && name.charAt(0) == ':') {
            return false;
        }
        for (UpstreamHeader h : ALL) {
            if (h.perCall && h.name.contentEquals(name)) {
                return true;
            }
        }
        return false;
    }
}
