package io.cellgate.server.config;

import java.time.Duration;
import java.util.List;

/**
 * How a gateway joins a fleet through etcd ({@code fleet.store: etcd}). Absent (null in
 * {@link GatewayConfig#fleet()}) when the gateway runs alone on its embedded store.
 *
 * @param endpoints     etcd client URLs
 * @param prefix        every key of this fleet lives under it; ends with {@code /}
 * @param advertise     the address clients reach this gateway at (its registration and the go_away
 *                      alternates of its peers); null: the bound client address
 * @param leaseTtl      the registration lease; a gateway that stops renewing it leaves the fleet after this
 * @param timeout       the longest a request to etcd may take
 * @param probeInterval how often the gateway confirms that etcd answers (staleness, catch-up)
 */
public record FleetConfig(List<String> endpoints, String prefix, String advertise, Duration leaseTtl, Duration timeout,
                          Duration probeInterval) {
}
