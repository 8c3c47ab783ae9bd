/** The client protocol's frame codec, public for tools outside the gateway (benchmarks, test clients). */
package io.cellgate.server.codec;
