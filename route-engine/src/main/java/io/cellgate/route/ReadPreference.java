package io.cellgate.route;

/** Which UP sets a READ command may use, nearest first. */
public enum ReadPreference {
    /** The gateway's IDC, then its city, then other cities (the default). */
    NEAREST,
    /** Any set of the gateway's city, then other cities. */
    CITY,
    /** Only sets of the gateway's city: reads never cross cities (NO_ROUTE when none is UP). */
    CITY_ONLY
}
