package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;

/**
 * Passes AO messages through as bytes: the gateway never decodes business messages. The client's
 * {@code Request.body} is the gRPC request message; the AO's response message becomes
 * {@code Response.body}.
 */
public final class ByteStringMarshaller implements MethodDescriptor.Marshaller<ByteString> {
    public static final ByteStringMarshaller INSTANCE = new ByteStringMarshaller();

    private ByteStringMarshaller() {
    }

    @Override
    public InputStream stream(ByteString value) {
        return value.newInput();
    }

    @Override
    public ByteString parse(InputStream stream) {
        try {
            return ByteString.readFrom(stream);
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("cannot read the AO's message").withCause(e).asRuntimeException();
        }
    }
}
