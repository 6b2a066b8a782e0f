package dev.eventloopguardian.report;

import dev.eventloopguardian.symbols.KernelSymbols;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A rehearsal runs the path the JIT must compile before a storm: its sleeps go all the way to
 * the writer, in either format and whatever the session's --min-duration, or it warms nothing.
 * That it writes nothing into a session's report, {@code StormTest} and {@code ReportModeTest}
 * check: they count every event of real sessions, which rehearse.
 */
class ReportRehearsalTest {
    @ParameterizedTest
    @CsvSource({"json, 0", "text, 0", "json, 50", "text, 50"})
    void everyRehearsedSleepReachesTheWriter(String format, long minDurationMillis) {
        ReportRehearsal rehearsal = new ReportRehearsal(KernelSymbols.kallsyms(), new long[] {0xffff_ffff_8100_002cL},
                ReportRehearsal.libcFrames(4), format, Duration.ofMillis(minDurationMillis));

        rehearsal.run(1_000);
        rehearsal.run(500);

        assertThat(rehearsal.written()).isEqualTo(1_500);
    }

    @org.junit.jupiter.api.Test
    void userFramesAreInLibcAsAStormsAre() {
        assertThat(ReportRehearsal.libcFrames(8)).hasSize(8).doesNotContain(0L);
    }
}
