package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.limit.NanoClock;
import io.cellgate.limit.TokenBucket;
import io.cellgate.server.config.CommandSpec;
import io.grpc.MethodDescriptor;

/** One command word, ready for the hot path: its gRPC method descriptor and its limiter. Immutable. */
final class Command {
    final CommandSpec spec;
    final MethodDescriptor<ByteString, ByteString> method;
    /** Null when the command has no rate limit. */
    final TokenBucket limiter;
    final long timeoutMillis;

    Command(CommandSpec spec, NanoClock clock) {
        this.spec = spec;
        this.method = MethodDescriptor.<ByteString, ByteString>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(spec.method())
                .setRequestMarshaller(ByteStringMarshaller.INSTANCE)
                .setResponseMarshaller(ByteStringMarshaller.INSTANCE)
                .build();
        this.limiter = spec.rate() > 0 ? new TokenBucket(spec.rate(), spec.burst(), clock) : null;
        this.timeoutMillis = spec.timeout().toMillis();
    }
}
