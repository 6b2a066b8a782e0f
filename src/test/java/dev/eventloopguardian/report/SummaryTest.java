package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.JavaWait;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** What the summary and the folded stacks say of the events counted. */
class SummaryTest {
    private static final List<String> KERNEL = List.of("schedule+0x23", "do_nanosleep+0x5e");
    private static final List<String> NANOSLEEP = List.of("clock_nanosleep+0x23 (libc.so.6)", "main+0x10 (storm)");
    private static final List<String> READ = List.of("read+0x4c (libc.so.6)", "pinger+0x20 (pipe-storm)");

    private static NamedEvent event(String thread, int tid, String syscall, int javaWait, List<String> user,
            Optional<JavaContext> java) {
        BlockingEvent event = new BlockingEvent(1, 10, tid, thread, 0, new long[6], 1, new long[0], new long[0], 1, 1, javaWait);
        return new NamedEvent(event, syscall, KERNEL, user, OptionalLong.empty(), false, CompletableFuture.completedFuture(java), Optional.empty());
    }

    private static Summary counted() {
        Summary summary = new Summary();
        JavaContext java = new JavaContext(true, "worker", 3, false, List.of("a.B.c(B.java:12)", "a.B.run(B.java:5)"), false);
        for (int i = 0; i < 3; i++) {
            summary.add(event("storm", 11, "clock_nanosleep", JavaWait.NONE, NANOSLEEP, Optional.empty()));
        }
        for (int i = 0; i < 3; i++) {
            summary.add(event("pipe", 12, "read", JavaWait.NONE, READ, Optional.empty()));
        }
        summary.add(event("storm", 13, "clock_nanosleep", JavaWait.NONE, NANOSLEEP, Optional.empty()));
        for (int i = 0; i < 2; i++) {
            summary.add(event("worker", 14, "futex", JavaWait.PARK.code(), List.of("futex+0x1 (libc.so.6)"), Optional.of(java)));
        }
        return summary;
    }

    @Test
    void countsBySyscallThreadAndStack() {
        StringWriter text = new StringWriter();
        counted().print(new PrintWriter(text), 5);
        assertThat(text.toString()).isEqualTo("""
                eventloop-guardian: summary: 9 blocking sleeps, 5 dropped
                  by syscall: clock_nanosleep 4, read 3, futex (park) 2
                  by thread:  pipe (tid 12) 3, storm (tid 11) 3, worker (tid 14) 2, storm (tid 13) 1
                  top stacks (syscall, then Java frames when known, else user frames, innermost first):
                        4  clock_nanosleep <- clock_nanosleep+0x23 (libc.so.6) <- main+0x10 (storm)
                        3  read <- read+0x4c (libc.so.6) <- pinger+0x20 (pipe-storm)
                        2  futex (park) <- a.B.c(B.java:12) <- a.B.run(B.java:5)
                """);
    }

    @Test
    void foldedStacksMergeThreadsOfOneName() {
        StringWriter folded = new StringWriter();
        counted().writeFolded(folded);
        assertThat(folded.toString()).isEqualTo("""
                storm;main_(storm);clock_nanosleep_(libc.so.6);do_nanosleep;schedule 4
                pipe;pinger_(pipe-storm);read_(libc.so.6);do_nanosleep;schedule 3
                worker;a.B.run_[j];a.B.c_[j];futex_(libc.so.6);do_nanosleep;schedule 2
                """);
    }
}
