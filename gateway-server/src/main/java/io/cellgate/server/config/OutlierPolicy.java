package io.cellgate.server.config;

import java.time.Duration;
import java.util.Set;

/**
 * Passive health of AO endpoints. An endpoint is ejected when its calls fail
 * {@code consecutiveFailures} times in a row, or when, over a health interval with at least
 * {@code minRequests} calls, fewer than {@code minSuccessRate} of them succeed. A failure is a call
 * closed with one of {@code failureCodes} (gRPC status code names: by default UNAVAILABLE and
 * DEADLINE_EXCEEDED; an AO's own error codes can be added, the "recognise failure by error code"
 * rule). RESOURCE_EXHAUSTED is not among them by default: an AO that says it is full is pushing back,
 * not failing, and ejecting it would move its load onto its peers. Ejection lasts {@code baseEjection} times the number of ejections so
 * far, at most {@code maxEjection}. When fewer than {@code panicThreshold} of a set's endpoints are
 * healthy, the set uses all of them (a bad signal cannot empty a set). At most
 * {@code maxEjectionPercent} of a set's endpoints are ejected at once (always at least one, as
 * Envoy's max_ejection_percent): a fault that makes every endpoint of a set look bad (the network, the
 * gateway itself) leaves the rest in rotation, and the set's health decides about the set.
 */
public record OutlierPolicy(int consecutiveFailures, Duration baseEjection, Duration maxEjection, double panicThreshold,
                            Set<String> failureCodes, double minSuccessRate, int minRequests, int maxEjectionPercent) {
    /** The policy with no cap on how many of a set's endpoints are ejected at once. */
    public OutlierPolicy(int consecutiveFailures, Duration baseEjection, Duration maxEjection, double panicThreshold,
                         Set<String> failureCodes, double minSuccessRate, int minRequests) {
        this(consecutiveFailures, baseEjection, maxEjection, panicThreshold, failureCodes, minSuccessRate, minRequests, 100);
    }

    public static final Set<String> DEFAULT_FAILURE_CODES = Set.of("UNAVAILABLE", "DEADLINE_EXCEEDED");
}
