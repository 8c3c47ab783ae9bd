/**
 * Typed, validated configuration read from {@code conf/gateway.yaml}. Immutable values; parsing runs
 * once, off the event loops.
 */
package io.cellgate.server.config;
