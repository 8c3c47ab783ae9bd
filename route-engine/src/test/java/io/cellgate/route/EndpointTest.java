package io.cellgate.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class EndpointTest {

    @Test
    void hostPortWithANameAnIpv4OrABracketedIpv6AddressAndAPortIsValid() {
        for (String ok : List.of("127.0.0.1:7101", "10.0.0.1:1", "10.0.0.1:65535", "ao-1.sz.example.com:443", "localhost:80",
                "ao.example.com.:8080", "[::1]:7101", "[2001:db8::7]:7101", "[::]:1", "[::ffff:10.0.0.1]:7101",
                "[1:2:3:4:5:6:7:8]:7101", "[fe80::1:2]:9", "AO-7:7101")) {
            assertThat(Endpoint.problem(ok)).as(ok).isNull();
        }
    }

    @Test
    void anythingElseIsRefusedWithTheReason() {
        for (String bad : List.of("", "10.0.0.1", "10.0.0.1:", ":7101", "10.0.0.1:71O1", "10.0.0.1:0", "10.0.0.1:65536",
                "10.0.0.1:70000", "10.0.0.1:+80", "10.0.0.1:-1", "10.0.0.1: 7101", "10.0.0.300:7101", "10.0.0:7101",
                "1.2.3.4.5:7101", "bad_host:7101", "-ao:7101", "ao-:7101", "a..b:7101", ".ao:7101", "ao b:7101",
                "ao,b:7101", "[::1:7101", "[::1]]:7101", "[1:2:3:4:5:6:7:8:9]:7101", "[1::2::3]:7101", "[gggg::1]:7101",
                "[12345::1]:7101", "[1:2:3:4:5:6:7]:7101", "[::1.2.3.999]:7101", "::1:7101", "ao:71\u0661")) {
            assertThat(Endpoint.problem(bad)).as(bad).isNotNull();
        }
    }

    @Test
    void aSetWithABadEndpointCannotBeBuiltAndTheMessageNamesIt() {
        assertThatThrownBy(() -> new CellSet("sz-a", "sz", "sz-1", SetState.UP, 1, List.of("127.0.0.1:7101", "10.0.0.1:71O1")))
                .isInstanceOf(RouteException.class).hasMessageContaining("sz-a").hasMessageContaining("10.0.0.1:71O1")
                .hasMessageContaining("port 71O1");
        RouteTable table = RouteTableTest.sixSets();
        assertThatThrownBy(() -> table.toBuilder().apply(new RouteChange.SetEndpoints("a1", List.of("10.0.0.1:70000"))))
                .isInstanceOf(RouteException.class).hasMessageContaining("a1").hasMessageContaining("10.0.0.1:70000");
    }
}
