package io.cellgate.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class SourcePrefixTest {
    private static long key(String address, int v4Bits, int v6Bits) throws Exception {
        return SourcePrefix.key(InetAddress.getByName(address), v4Bits, v6Bits);
    }

    @Test
    void addressesOfOnePrefixShareAKeyAndOthersDoNot() throws Exception {
        assertThat(key("10.1.2.3", 24, 64)).isEqualTo(key("10.1.2.200", 24, 64)).isNotEqualTo(key("10.1.3.3", 24, 64));
        assertThat(key("10.1.2.3", 32, 64)).isNotEqualTo(key("10.1.2.4", 32, 64));
        assertThat(key("2001:db8:0:1::1", 24, 64)).isEqualTo(key("2001:db8:0:1:ffff::9", 24, 64))
                .isNotEqualTo(key("2001:db8:0:2::1", 24, 64));
        assertThat(key("2001:db8:0:1::1", 24, 128)).isNotEqualTo(key("2001:db8:0:1::2", 24, 128));
        assertThat(key("2001:db8:0:1::1", 24, 48)).isEqualTo(key("2001:db8:0:2::1", 24, 48));
        // An IPv4 key never equals an IPv6 one of the same bits.
        assertThat(key("0.0.0.0", 32, 64)).isNotEqualTo(key("::", 24, 64));
    }

    @Test
    void operatorsReadAnIpv6SourceAsItsPrefix() throws Exception {
        assertThat(SourcePrefix.text(InetAddress.getByName("10.1.2.3"), 64)).isEqualTo("10.1.2.3");
        assertThat(SourcePrefix.text(InetAddress.getByName("2001:db8:0:1:aaaa::9"), 64)).isEqualTo("2001:db8:0:1:0:0:0:0/64");
        assertThat(SourcePrefix.text(InetAddress.getByName("2001:db8:0:1:aaaa::9"), 128)).isEqualTo("2001:db8:0:1:aaaa:0:0:9");
    }
}
