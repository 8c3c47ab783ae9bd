package io.cellgate.route;

import java.util.Objects;

/**
 * Where the gateway runs and how it prefers sets for reads. It belongs to the gateway, not to the
 * routes, so the route store does not keep it.
 */
public record Locality(String city, String idc, ReadPreference readPreference) {
    public Locality {
        Objects.requireNonNull(city, "city");
        Objects.requireNonNull(idc, "idc");
        Objects.requireNonNull(readPreference, "readPreference");
    }

    public static Locality of(String city, String idc) {
        return new Locality(city, idc, ReadPreference.NEAREST);
    }
}
