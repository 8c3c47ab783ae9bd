/**
 * The performance harness behind {@code perf/run <scenario>}: the scenarios ({@link
 * io.cellgate.perf.harness.HopScenario}, {@link io.cellgate.perf.harness.ConnsScenario}), the processes
 * they start and measure ({@link io.cellgate.perf.harness.Procs}), and their reports and plots.
 */
package io.cellgate.perf.harness;
