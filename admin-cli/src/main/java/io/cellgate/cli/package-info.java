/** {@code gatewayctl}, the operator CLI (picocli). Single-threaded; one command per process. */
package io.cellgate.cli;
