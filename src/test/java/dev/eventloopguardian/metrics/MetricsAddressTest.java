package dev.eventloopguardian.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsAddressTest {
    @Test
    void aPortAloneIsServedOnLoopbackOnly() {
        assertThat(MetricsAddress.parse("9464")).isEqualTo(new MetricsAddress("127.0.0.1", 9464));
        assertThat(MetricsAddress.parse(":9464")).isEqualTo(new MetricsAddress("127.0.0.1", 9464));
        assertThat(MetricsAddress.parse("0")).isEqualTo(new MetricsAddress("127.0.0.1", 0));
    }

    @Test
    void anAddressIsTakenAsGiven() {
        assertThat(MetricsAddress.parse("0.0.0.0:9464")).isEqualTo(new MetricsAddress("0.0.0.0", 9464));
        assertThat(MetricsAddress.parse("localhost:65535")).isEqualTo(new MetricsAddress("localhost", 65535));
        assertThat(MetricsAddress.parse("[::1]:9464")).isEqualTo(new MetricsAddress("::1", 9464));
    }

    @Test
    void theUrlIsWhatPrometheusScrapes() {
        assertThat(MetricsAddress.parse("9464").url()).isEqualTo("http://127.0.0.1:9464/metrics");
        assertThat(MetricsAddress.parse("[::1]:9464").url()).isEqualTo("http://[::1]:9464/metrics");
        assertThat(MetricsAddress.parse("[::1]:9464").withPort(0)).hasToString("[::1]:0");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "host:", "host:port", "-1", "+9464", "65536", "123456", "9464:", "::1:9464",
            "[::1]", "[::1]9464", "[::1:9464", "١٢٣"})
    void anythingElseIsRefusedSayingHowToWriteIt(String text) {
        assertThatThrownBy(() -> MetricsAddress.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("e.g. 9464");
    }
}
