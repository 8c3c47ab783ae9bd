/**
 * The client wire protocol: the generated messages in {@code io.cellgate.protocol.v1} (from
 * {@code cellgate/v1/client.proto}) and {@link io.cellgate.protocol.LoginToken}. No threads; instances
 * of {@code LoginToken} are confined to one thread.
 */
package io.cellgate.protocol;
