/**
 * {@code gatewayd}: {@link io.cellgate.server.GatewayServer} wires the Netty server, the gRPC
 * upstream channels on the same event loops, the route engine and the command table.
 * {@link io.cellgate.server.Gatewayd} is the daemon's entry point.
 */
package io.cellgate.server;
