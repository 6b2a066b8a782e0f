package dev.eventloopguardian.watch;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PathGlobTest {
    @Test
    void aPatternWithoutASlashMatchesTheLastPart() {
        assertThat(PathGlob.parse("node").matches("/usr/bin/node")).isTrue();
        assertThat(PathGlob.parse("node").matches("/usr/bin/nodejs")).isFalse();
        assertThat(PathGlob.parse("python3*").matches("/usr/bin/python3.11")).isTrue();
        assertThat(PathGlob.parse("*.service").matches("/system.slice/redis-server.service")).isTrue();
        assertThat(PathGlob.parse("*.service").matches("/system.slice/redis-server.service/child")).isFalse();
    }

    @Test
    void aPatternWithASlashMatchesTheWholePathAndItsStarCrossesSlashes() {
        assertThat(PathGlob.parse("/usr/bin/node").matches("/usr/bin/node")).isTrue();
        assertThat(PathGlob.parse("/usr/bin/node").matches("/usr/local/bin/node")).isFalse();
        assertThat(PathGlob.parse("*/docker-*.scope").matches("/system.slice/docker-3f2a.scope")).isTrue();
        assertThat(PathGlob.parse("/kubepods*").matches("/kubepods.slice/kubepods-burstable.slice/x.scope")).isTrue();
        assertThat(PathGlob.parse("/opt/?/bin/java").matches("/opt/j/bin/java")).isTrue();
        assertThat(PathGlob.parse("a.b").matches("/x/aXb")).as("a dot is a dot").isFalse();
    }

    @Test
    void anEmptyPatternIsRefused() {
        assertThatThrownBy(() -> PathGlob.parse(" ")).hasMessageContaining("matches nothing");
    }
}
