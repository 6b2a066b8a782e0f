package dev.eventloopguardian.guard;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Which patterns are refused: one that no kernel thread name can match would guard nothing, and
 * the command would run as if clean.
 */
class ThreadPatternTest {
    @ParameterizedTest
    @ValueSource(strings = {"python[3]", "loop-[0-9]", "python]", "{redis,node}", "loop-{1}", "loop\\-1", "loop-\\*"})
    void globSyntaxWeDoNotImplementIsRefusedWithWhatIsSupported(String glob) {
        assertThatThrownBy(() -> ThreadPattern.parse(glob))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(glob)
                .hasMessageContaining("not implement")
                .hasMessageContaining("'vert.x-eventloo*'")
                .hasMessageNotContaining("\n");
    }

    @Test
    void aNulCanNeverBeInAThreadNameAndIsRefused() {
        assertThatThrownBy(() -> ThreadPattern.parse("loop\0-1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("loop\\0-1")
                .hasMessageContaining("NUL")
                .hasMessageNotContaining("\0");
    }

    @Test
    void emptyAndInnerStarAreRefused() {
        assertThatThrownBy(() -> ThreadPattern.parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> ThreadPattern.parse("*-eventloop")).hasMessageContaining("only a trailing *");
    }

    @Test
    void questionMarkAndTrailingStarStillMatch() {
        assertThat(ThreadPattern.parse("loop-?").matches("loop-1")).isTrue();
        assertThat(ThreadPattern.parse("loop-?").matches("loop-12")).isFalse();
        assertThat(ThreadPattern.parse("vert.x-eventloo*").matches("vert.x-eventloo")).isTrue();
        assertThat(ThreadPattern.parse("python*").matches("python3")).isTrue();
    }

    /** A JVM thread's name is cut to 15 bytes by the kernel; a pattern for the full name is cut the same way. */
    @Test
    void aPatternLongerThanTheKernelsNameIsCutAndMatchesAsAPrefix() {
        ThreadPattern full = ThreadPattern.parse("vert.x-eventloop-thread-0");
        assertThat(full.matches("vert.x-eventloop-thread-0")).isTrue();
        assertThat(full.matches("vert.x-eventloo")).isTrue();
        assertThat(full.matches("vert.x-eventlo")).isFalse();
    }
}
