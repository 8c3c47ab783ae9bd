package io.cellgate.limit;

/** Command priority. P0 is served first; under degradation lower priorities are refused first. */
public enum Priority {
    P0, P1, P2, P3
}
