package dev.eventloopguardian.sys;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KernelVersionTest {
    @Test
    void readsMajorAndMinorFromReleasesAsDistributionsWriteThem() {
        assertThat(KernelVersion.parse("6.18.0")).contains(KernelVersion.of(6, 18));
        assertThat(KernelVersion.parse("5.15.0-91-generic\n")).contains(KernelVersion.of(5, 15));
        assertThat(KernelVersion.parse("5.10.0-28-cloud-amd64")).contains(KernelVersion.of(5, 10));
        assertThat(KernelVersion.parse("6.8.9-300.fc40.x86_64")).contains(KernelVersion.of(6, 8));
        assertThat(KernelVersion.parse("6.1-rc3")).contains(KernelVersion.of(6, 1));
        assertThat(KernelVersion.parse("6.12+deb13-amd64")).contains(KernelVersion.of(6, 12));
    }

    @Test
    void aReleaseWithoutAVersionHasNone() {
        assertThat(KernelVersion.parse("")).isEmpty();
        assertThat(KernelVersion.parse("linux")).isEmpty();
        assertThat(KernelVersion.parse("6")).isEmpty();
        assertThat(KernelVersion.parse("99999999999.1")).isEmpty();
    }

    @Test
    void comparesMinorsAsNumbersNotText() {
        assertThat(KernelVersion.of(5, 15).atLeast(KernelVersion.of(5, 8))).isTrue();
        assertThat(KernelVersion.of(5, 8).atLeast(KernelVersion.of(5, 15))).isFalse();
        assertThat(KernelVersion.of(6, 0).atLeast(KernelVersion.of(5, 15))).isTrue();
        assertThat(KernelVersion.of(5, 15).atLeast(KernelVersion.of(5, 15))).isTrue();
        assertThat(KernelVersion.of(5, 15)).hasToString("5.15");
    }

    @Test
    void theRunningKernelHasAVersion() {
        assertThat(KernelVersion.running()).isPresent();
    }
}
