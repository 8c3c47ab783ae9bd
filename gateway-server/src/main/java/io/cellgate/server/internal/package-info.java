/**
 * The gateway's internals: pipeline handlers, the upstream channels and calls. Not an API: nothing
 * outside {@code gateway-server} may use these classes.
 *
 * <p>Threading: each client connection is confined to its event loop; {@link
 * io.cellgate.server.internal.ClientSession} and the handlers are touched only there. gRPC callbacks
 * run on the event loop of the upstream channel (direct executor) and reach the client connection
 * only through {@link io.cellgate.server.internal.ResponseWriter}'s queue. Snapshots ({@link
 * io.cellgate.server.internal.RoutingSnapshot}, {@link io.cellgate.server.internal.CommandTable}) are
 * immutable and read through one volatile field each.
 */
package io.cellgate.server.internal;
