package io.cellgate.server.config;

import java.nio.file.Path;
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
 * @param security      TLS and authentication towards etcd
 */
public record FleetConfig(List<String> endpoints, String prefix, String advertise, Duration leaseTtl, Duration timeout,
                          Duration probeInterval, Security security) {

    /**
     * How the gateway proves itself to etcd, and how it checks etcd.
     *
     * @param caFile   PEM CA certificates that sign etcd's certificate (https:// endpoints); null: plaintext
     * @param certFile PEM client certificate, for an etcd that requires one ({@code --client-cert-auth}); null: none
     * @param keyFile  its PEM (PKCS#8) key
     * @param user     the etcd user (etcd's authentication on); null: none
     * @param password its password (read once; never logged)
     */
    public record Security(Path caFile, Path certFile, Path keyFile, String user, byte[] password) {
    }
}
