/**
 * A fleet of gateways on etcd: the shared route store ({@link io.cellgate.server.fleet.EtcdRouteStore}),
 * the AO endpoint registry ({@link io.cellgate.server.fleet.EtcdEndpointRegistry}), the gateways'
 * own registrations ({@link io.cellgate.server.fleet.FleetMembership}) and the registration an AO
 * makes of itself ({@link io.cellgate.server.fleet.EndpointRegistration}). The key layout is in
 * {@link io.cellgate.server.fleet.EtcdFleet} and docs/OPERATIONS.md.
 */
package io.cellgate.server.fleet;
