/**
 * Routes of cellgate: sets, write points (uid to slot to set), overrides, write forbids and read
 * preferences, as immutable {@link io.cellgate.route.RouteTable} snapshots published by one writer,
 * {@link io.cellgate.route.RouteEngine}. Plain Java: no Netty, no gRPC.
 *
 * <p>Threading: snapshots are immutable and safe to read from any thread without locks;
 * {@code RouteEngine} serializes its writers.
 */
package io.cellgate.route;
