package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Passes AO messages through as bytes: the gateway never decodes business messages. The client's
 * {@code Request.body} is the gRPC request message; the AO's response message becomes
 * {@code Response.body}.
 *
 * <p>Neither way copies more than once. A request body goes out as a {@link Drainable} stream, which
 * gRPC drains straight into its frame (a plain stream is copied through a new 8 KiB buffer per call).
 * A response of known length (gRPC's own stream) is read into one array of its exact size, which the
 * {@code ByteString} then wraps.
 */
public final class ByteStringMarshaller implements MethodDescriptor.Marshaller<ByteString> {
    public static final ByteStringMarshaller INSTANCE = new ByteStringMarshaller();

    private ByteStringMarshaller() {
    }

    @Override
    public InputStream stream(ByteString value) {
        return new BodyStream(value);
    }

    @Override
    public ByteString parse(InputStream stream) {
        try {
            if (!(stream instanceof KnownLength)) {
                return ByteString.readFrom(stream);
            }
            byte[] bytes = new byte[stream.available()];
            int read = stream.readNBytes(bytes, 0, bytes.length);
            int next = stream.read();
            if (read == bytes.length && next < 0) {
                // The array is new and never written again: wrapping it is safe.
                return UnsafeByteOperations.unsafeWrap(bytes);
            }
            // Not the length it said: what it gave, then the rest.
            ByteString head = ByteString.copyFrom(bytes, 0, read);
            return next < 0 ? head : head.concat(ByteString.copyFrom(new byte[] {(byte) next})).concat(ByteString.readFrom(stream));
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("cannot read the AO's message").withCause(e).asRuntimeException();
        }
    }

    /** A request body as gRPC takes it: its length known, drained into the frame in one write. */
    static final class BodyStream extends InputStream implements Drainable, KnownLength {
        private final ByteString body;
        /** Bytes read or drained so far. */
        private int position;

        BodyStream(ByteString body) {
            this.body = body;
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int size = body.size();
            if (position == 0) {
                body.writeTo(target);
            } else if (position < size) {
                body.substring(position).writeTo(target);
            }
            int drained = size - Math.min(position, size);
            position = size;
            return drained;
        }

        @Override
        public int available() {
            return body.size() - position;
        }

        @Override
        public int read() {
            return position < body.size() ? body.byteAt(position++) & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            int left = body.size() - position;
            if (len == 0) {
                return 0;
            }
            if (left <= 0) {
                return -1;
            }
            int n = Math.min(len, left);
            body.substring(position, position + n).copyTo(b, off);
            position += n;
            return n;
        }
    }
}
