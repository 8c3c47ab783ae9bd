/**
 * Admission control of cellgate: {@link io.cellgate.limit.TokenBucket} and the
 * {@link io.cellgate.limit.Admission} outcomes. Plain Java: no Netty, no gRPC.
 *
 * <p>Threading: every decision is synchronous, lock-free and allocation-free on the calling thread.
 * Time comes from an injected {@link io.cellgate.limit.NanoClock}.
 */
package io.cellgate.limit;
