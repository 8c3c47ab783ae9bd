/**
 * Fencing at the AO: {@link io.cellgate.fence.WriteFence} refuses writes from a gateway whose routes
 * predate a city switch. A library for AO services; it depends on grpc-api only.
 */
package io.cellgate.fence;
