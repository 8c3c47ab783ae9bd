package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One unary call of the lean client ({@link LeanChannel}): its request until it is written, its HTTP/2
 * stream on a {@link LeanConnection}, the response message read from the stream's DATA frames, and its
 * deadline. Lives on one event loop. It ends once, by the first of: the trailers, a reset of its
 * stream, the end of its connection, its deadline, or a cancel; then it tells its listener (the
 * message if the call succeeded, then the status) exactly as a gRPC call would.
 */
final class LeanCall implements Runnable, ChannelFutureListener {
    /** gRPC's default for the largest message a client accepts. */
    static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    private static final AsciiString FENCED = AsciiString.cached(io.cellgate.fence.FenceHeaders.FENCED.name());
    /** Trailers of a call that was not fenced: only ever read. */
    private static final Metadata NO_TRAILERS = new Metadata();

    private final ClientCall.Listener<ByteString> listener;
    /** The event loop it lives on: its channel's. */
    private final io.netty.channel.EventLoop loop;
    final Http2Headers headers;
    /** The request message; dropped once written. */
    private ByteString request;
    private final long timeoutNanos;
    private ScheduledFuture<?> deadline;
    private long deadlineAtNanos;
    private LeanConnection connection;
    private int streamId;
    private boolean done;

    private boolean headersRead;
    /** Bytes of the 5-byte message prefix read so far, and the length it gives. */
    private int prefixRead;
    private int length;
    private byte[] message;
    private int messageRead;
    private ByteString response;

    LeanCall(ClientCall.Listener<ByteString> listener, Http2Headers headers, ByteString request, long timeoutNanos,
             io.netty.channel.EventLoop loop) {
        this.listener = listener;
        this.headers = headers;
        this.request = request;
        this.timeoutNanos = timeoutNanos;
        this.loop = loop;
    }

    /** Starts its deadline: from now on it ends by itself. On its loop. */
    void startDeadline() {
        deadlineAtNanos = System.nanoTime() + timeoutNanos;
        deadline = loop.schedule(this, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    boolean done() {
        return done;
    }

    /** The request message, handed over once to be written on stream {@code id} of {@code on}. */
    ByteString written(LeanConnection on, int id) {
        connection = on;
        streamId = id;
        ByteString r = request;
        request = null;
        return r;
    }

    /** The deadline passed: the call ends {@code DEADLINE_EXCEEDED} and its stream is reset. */
    @Override
    public void run() {
        deadline = null;
        if (done) {
            return;
        }
        LeanConnection on = connection;
        close(Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded after " + timeoutNanos / 1_000_000 + " ms"), NO_TRAILERS, true);
        if (on != null) {
            // A call that times out may be the first sign of a dead connection: ask the AO for a ping.
            on.pingAfterTimeout();
        }
    }

    /** Cancelled by the gateway (its client went away): ends {@code CANCELLED}, its stream reset. */
    void cancel(String reason) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> cancel(reason));
            return;
        }
        close(Status.CANCELLED.withDescription(reason), NO_TRAILERS, true);
    }

    /** The write of its headers failed (the connection closed, or a GOAWAY came before the stream opened). */
    @Override
    public void operationComplete(ChannelFuture future) {
        if (!future.isSuccess()) {
            close(Status.UNAVAILABLE.withDescription("the request could not be sent").withCause(future.cause()), NO_TRAILERS, false);
        }
    }

    /** Ends it with {@code status}, unless it ended already. */
    void fail(Status status) {
        close(status, NO_TRAILERS, false);
    }

    void onHeaders(Http2Headers h, boolean endOfStream) {
        if (headersRead) {
            if (endOfStream) {
                onTrailers(h);
            } else {
                close(Status.INTERNAL.withDescription("the AO sent headers twice before its trailers"), NO_TRAILERS, true);
            }
            return;
        }
        headersRead = true;
        CharSequence status = h.status();
        if (status == null || !AsciiString.contentEquals(status, "200")) {
            int code = parse(status);
            close(ofHttpStatus(code).withDescription("HTTP status " + status), NO_TRAILERS, !endOfStream);
            return;
        }
        CharSequence type = h.get(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_TYPE);
        if (type == null || !AsciiString.regionMatches(type, false, 0, "application/grpc", 0, 16)) {
            close(Status.INTERNAL.withDescription("the AO answered with content-type " + type), NO_TRAILERS, !endOfStream);
            return;
        }
        if (endOfStream) {
            onTrailers(h);
        }
    }

    /** Reads the response message's bytes from a DATA frame (a message may span several, a frame several messages). */
    void onData(ByteBuf data, boolean endOfStream) {
        if (!headersRead) {
            close(Status.INTERNAL.withDescription("the AO sent data before headers"), NO_TRAILERS, true);
            return;
        }
        while (data.isReadable() && !done) {
            if (prefixRead < 5) {
                int b = data.readUnsignedByte();
                if (prefixRead == 0) {
                    if (b != 0) {
                        // The gateway asks for no compression (it sends no grpc-accept-encoding).
                        close(Status.INTERNAL.withDescription("the AO sent a compressed message"), NO_TRAILERS, true);
                        return;
                    }
                } else {
                    length = length << 8 | b;
                }
                if (++prefixRead == 5) {
                    if (response != null) {
                        close(Status.INTERNAL.withDescription("the AO sent more than one message on a unary call"), NO_TRAILERS, true);
                        return;
                    }
                    if (length < 0 || length > MAX_MESSAGE_BYTES) {
                        close(Status.RESOURCE_EXHAUSTED.withDescription("response message larger than " + MAX_MESSAGE_BYTES + " bytes: "
                                + Integer.toUnsignedString(length)), NO_TRAILERS, true);
                        return;
                    }
                    message = new byte[length];
                    messageRead = 0;
                }
            } else {
                int n = Math.min(data.readableBytes(), length - messageRead);
                data.readBytes(message, messageRead, n);
                messageRead += n;
            }
            if (prefixRead == 5 && messageRead == length) {
                response = UnsafeByteOperations.unsafeWrap(message);
                message = null;
                prefixRead = 0;
                length = 0;
            }
        }
        if (endOfStream && !done) {
            close(Status.INTERNAL.withDescription("the AO ended the stream without trailers"), NO_TRAILERS, false);
        }
    }

    /** The AO reset the stream. */
    void onReset(long errorCode) {
        if (errorCode == Http2Error.CANCEL.code() && System.nanoTime() - deadlineAtNanos >= 0) {
            // The AO's copy of the deadline ran out first (gRPC servers cancel then): it is the deadline, as gRPC reports it.
            close(Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded after " + timeoutNanos / 1_000_000 + " ms (the AO cancelled)"),
                    NO_TRAILERS, false);
            return;
        }
        close(ofHttp2Error(errorCode).withDescription("the AO reset the stream: " + errorName(errorCode)), NO_TRAILERS, false);
    }

    private void onTrailers(Http2Headers t) {
        CharSequence code = t.get(GRPC_STATUS);
        Status status;
        if (code == null) {
            status = Status.UNKNOWN.withDescription("the AO's trailers have no grpc-status");
        } else {
            int value = parse(code);
            status = value < 0 ? Status.UNKNOWN.withDescription("grpc-status " + code) : Status.fromCodeValue(value);
            CharSequence description = t.get(GRPC_MESSAGE);
            if (description != null) {
                status = status.withDescription(percentDecode(description));
            }
        }
        if (status.isOk() && prefixRead > 0) {
            status = Status.INTERNAL.withDescription("the AO ended the call inside a message");
        }
        Metadata trailers = NO_TRAILERS;
        CharSequence fenced = t.get(FENCED);
        if (fenced != null) {
            trailers = new Metadata();
            trailers.put(io.cellgate.fence.FenceHeaders.FENCED, fenced.toString());
        }
        close(status, trailers, false);
    }

    private void close(Status status, Metadata trailers, boolean resetStream) {
        if (done) {
            return;
        }
        done = true;
        request = null;
        message = null;
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        if (connection != null) {
            connection.forget(streamId, resetStream);
        }
        try {
            if (status.isOk() && response != null) {
                listener.onMessage(response);
            }
        } finally {
            listener.onClose(status, trailers);
        }
    }

    /** A non-negative decimal, or -1. */
    private static int parse(CharSequence s) {
        if (s == null || s.length() == 0 || s.length() > 9) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    /** gRPC's mapping of an HTTP status that is not 200 (the AO, or something in front of it, is not speaking gRPC). */
    static Status ofHttpStatus(int http) {
        switch (http) {
            case 400:
            case 431:
                return Status.INTERNAL;
            case 401:
                return Status.UNAUTHENTICATED;
            case 403:
                return Status.PERMISSION_DENIED;
            case 404:
                return Status.UNIMPLEMENTED;
            case 429:
            case 502:
            case 503:
            case 504:
                return Status.UNAVAILABLE;
            default:
                return Status.UNKNOWN;
        }
    }

    /** gRPC's mapping of an HTTP/2 error code that ended a stream or its connection. */
    static Status ofHttp2Error(long errorCode) {
        if (errorCode == Http2Error.REFUSED_STREAM.code()) {
            return Status.UNAVAILABLE;
        }
        if (errorCode == Http2Error.CANCEL.code()) {
            return Status.CANCELLED;
        }
        if (errorCode == Http2Error.ENHANCE_YOUR_CALM.code()) {
            return Status.RESOURCE_EXHAUSTED;
        }
        if (errorCode == Http2Error.INADEQUATE_SECURITY.code()) {
            return Status.PERMISSION_DENIED;
        }
        return Status.INTERNAL;
    }

    private static String errorName(long errorCode) {
        Http2Error e = Http2Error.valueOf(errorCode);
        return e == null ? "error " + errorCode : e.name();
    }

    /** {@code grpc-message} is percent-encoded UTF-8. A malformed escape is kept as it is. */
    static String percentDecode(CharSequence s) {
        boolean plain = true;
        for (int i = 0; i < s.length() && plain; i++) {
            plain = s.charAt(i) != '%';
        }
        if (plain) {
            return s.toString();
        }
        byte[] out = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0) {
                out[n++] = (byte) (Character.digit(s.charAt(i + 1), 16) << 4 | Character.digit(s.charAt(i + 2), 16));
                i += 2;
            } else {
                out[n++] = (byte) c;
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }
}
