package io.cellgate.route;

/** Operational state of a set. */
public enum SetState {
    /** Serves reads and writes. */
    UP,
    /** Takes no new reads; still the write point of its users until they are moved. */
    DRAINING,
    /** Serves nothing; its users' writes follow the write-point failover policy. */
    DOWN
}
