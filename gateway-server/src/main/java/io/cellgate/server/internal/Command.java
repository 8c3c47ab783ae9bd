package io.cellgate.server.internal;

import com.google.protobuf.ByteString;
import io.cellgate.limit.NanoClock;
import io.cellgate.limit.TokenBucket;
import io.cellgate.server.config.CommandSpec;
import io.cellgate.limit.Admission;
import io.cellgate.protocol.v1.Code;
import io.grpc.MethodDescriptor;
import java.util.concurrent.atomic.LongAdder;

/**
 * One command word, ready for the hot path: its gRPC method descriptor, its limiter and its decision
 * counters. Immutable (the counters are thread-safe adders).
 */
final class Command {
    final CommandSpec spec;
    final MethodDescriptor<ByteString, ByteString> method;
    /** The HTTP/2 {@code :path} of its method, for the lean client. */
    final io.netty.util.AsciiString path;
    /** The command word as sent in {@code x-cellgate-cmd}. */
    final String cmdText;
    /** Null when the command has no rate limit. */
    final TokenBucket limiter;
    final long timeoutMillis;
    /** The AO service of the method, {@code package.Service}. */
    final String service;
    /** Key of the command's group in the per-user buckets. */
    final long groupKey;
    /** Decisions by {@link Admission} ordinal. */
    final LongAdder[] decisions;
    /** Responses by {@link Code} number. */
    final LongAdder[] codes;
    /** Time from dispatch to the response written, per command. */
    final LatencyHistogram.Series latency;
    /** The gateway's own time per request (total minus the AO call). */
    final LatencyHistogram.Series gatewayTime;

    Command(CommandSpec spec, double fleetShare, NanoClock clock, LongAdder[] decisions, LongAdder[] codes,
            LatencyHistogram.Series latency, LatencyHistogram.Series gatewayTime) {
        this.gatewayTime = gatewayTime;
        this.codes = codes;
        this.latency = latency;
        this.spec = spec;
        this.method = MethodDescriptor.<ByteString, ByteString>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(spec.method())
                .setRequestMarshaller(ByteStringMarshaller.INSTANCE)
                .setResponseMarshaller(ByteStringMarshaller.INSTANCE)
                .build();
        this.path = new io.netty.util.AsciiString("/" + spec.method());
        this.cmdText = Integer.toUnsignedString(spec.cmd());
        double rate = spec.effectiveRate(fleetShare);
        this.limiter = rate > 0 ? new TokenBucket(Math.max(rate, MIN_RATE), spec.effectiveBurst(fleetShare), clock) : null;
        this.timeoutMillis = spec.timeout().toMillis();
        this.service = spec.method().substring(0, spec.method().indexOf('/'));
        this.groupKey = spec.group().hashCode() * 0xC2B2AE3D27D4EB4FL;
        this.decisions = decisions;
    }

    /** A share of a fleet's rate never rounds to no limit, nor to nothing at all. */
    private static final double MIN_RATE = 0.01;

    void count(Admission decision) {
        decisions[decision.ordinal()].increment();
    }

    void count(Code code) {
        codes[code.getNumber()].increment();
    }
}
