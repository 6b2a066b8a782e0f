package dev.eventloopguardian.metrics;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SeriesLimitTest {
    @Test
    void admitsUpToItsLimitThenOnlyWhatItAdmittedBefore() {
        SeriesLimit limit = new SeriesLimit(2);
        assertThat(limit.admits(List.of("1", "python3"))).isTrue();
        assertThat(limit.admits(List.of("2", "python3"))).isTrue();
        assertThat(limit.admits(List.of("3", "python3"))).isFalse();
        assertThat(limit.admits(List.of("1", "python3"))).as("already has its series").isTrue();
        assertThat(limit.admits(List.of("3", "python3"))).isFalse();
    }

    @Test
    void otherLabelsEveryValueOther() {
        assertThat(SeriesLimit.other(3)).containsExactly("other", "other", "other");
        assertThatThrownBy(() -> new SeriesLimit(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
