package io.cellgate.fence;

import io.grpc.Metadata;

/**
 * The gRPC metadata cellgate sends with every call to an AO (and with its health checks) that the
 * fence reads, and the trailer the fence answers with. Values are decimal ASCII.
 */
public final class FenceHeaders {
    /** The epoch of the gateway's route table the call was dispatched under. */
    public static final Metadata.Key<String> ROUTE_EPOCH = Metadata.Key.of("x-cellgate-route-epoch", Metadata.ASCII_STRING_MARSHALLER);
    /**
     * The fence of the target set's city as the gateway knows it: the epoch at which the city's writes
     * were last forbidden (absent when never).
     */
    public static final Metadata.Key<String> FENCE_EPOCH = Metadata.Key.of("x-cellgate-fence-epoch", Metadata.ASCII_STRING_MARSHALLER);
    /** The command's route class: {@code write}, {@code read} or {@code center}. */
    public static final Metadata.Key<String> ROUTE_CLASS = Metadata.Key.of("x-cellgate-route-class", Metadata.ASCII_STRING_MARSHALLER);
    /** Trailer of a call the fence refused: the AO's fence epoch. */
    public static final Metadata.Key<String> FENCED = Metadata.Key.of("x-cellgate-fenced", Metadata.ASCII_STRING_MARSHALLER);

    private FenceHeaders() {
    }

    /** {@code value} as an epoch, or 0 when it is absent or not a decimal number that fits a long. */
    static long epoch(String value) {
        if (value == null || value.isEmpty() || value.length() > 19) {
            return 0;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
