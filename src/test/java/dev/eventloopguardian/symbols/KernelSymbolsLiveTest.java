package dev.eventloopguardian.symbols;

import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The running kernel's /proc/kallsyms. Needs root (CAP_SYSLOG) for real addresses: skipped with
 * the reason otherwise, a failure where EVENTLOOP_GUARDIAN_REQUIRE_KERNEL=1.
 */
@KernelTest(needs = {}) // reads /proc as root; loads nothing
class KernelSymbolsLiveTest {
    private static KernelSymbols kernel;

    @BeforeAll
    static void readKallsyms() {
        kernel = KernelSymbols.kallsyms();
        // CAP_BPF and CAP_PERFMON (what @KernelTest checks) do not imply CAP_SYSLOG.
        kernel.unavailable().ifPresent(why -> {
            if ("1".equals(System.getenv("EVENTLOOP_GUARDIAN_REQUIRE_KERNEL"))) {
                throw new AssertionError(why);
            }
            System.err.println("SKIPPED KernelSymbolsLiveTest: " + why);
            throw new TestAbortedException(why);
        });
    }

    @Test
    void resolvesAnAddressInsideScheduleBackToSchedule() {
        long schedule = kernel.address("schedule").orElseThrow();
        assertThat(kernel.resolve(schedule + 0x10)).isEqualTo("schedule+0x10");
        assertThat(kernel.size()).isGreaterThan(10_000);
    }

    @Test
    void agreesWithTheKernelsOwnStackOfASleepingProcess() throws Exception {
        // /proc/PID/stack prints "[<0>] hrtimer_nanosleep+0xb5/0x130": name+offset/size as the
        // kernel computes them, with the address hidden. Our table must give the same name for
        // that offset and put the next symbol `size` bytes on (after its padding, if it has one).
        try (Sleeper sleeper = Sleeper.start("", Map.of())) {
            sleeper.sleepingPc();
            List<String> frames = Files.readAllLines(Path.of("/proc", Integer.toString(sleeper.pid()), "stack"));
            assertThat(frames).anySatisfy(frame -> assertThat(frame).contains("nanosleep"));
            Pattern line = Pattern.compile("\\[<\\w+>] (\\S+)\\+0x(\\p{XDigit}+)/0x(\\p{XDigit}+)(?: \\[(\\S+)])?");
            int checked = 0;
            for (String frame : frames) {
                Matcher m = line.matcher(frame);
                assertThat(m.matches()).as(frame).isTrue();
                String name = m.group(1);
                long offset = Long.parseLong(m.group(2), 16);
                long size = Long.parseLong(m.group(3), 16);
                String module = m.group(4) == null ? "" : " [" + m.group(4) + "]";
                long start = kernel.address(name).orElseThrow();
                assertThat(kernel.resolve(start + offset)).isEqualTo(name + "+0x" + Long.toHexString(offset) + module);
                assertThat(kernel.resolve(start + size - 1)).startsWith(name + "+");
                // The next symbol: at start + size, or past its 16 bytes of padding (__pfx_), which the table leaves out.
                assertThat(List.of(kernel.resolve(start + size), kernel.resolve(start + size + 16)))
                        .anySatisfy(next -> assertThat(next).doesNotStartWith(name + "+"));
                checked++;
            }
            assertThat(checked).isGreaterThanOrEqualTo(3);
        }
    }
}
