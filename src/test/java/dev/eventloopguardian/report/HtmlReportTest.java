package dev.eventloopguardian.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.JavaWait;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** What the HTML report's data says of the sleeps it was given: stacks, tallies and the bounded timeline. */
class HtmlReportTest {
    static final long START = 1_000_000_000L;
    static final long START_EPOCH_MILLIS = 1_796_000_000_000L;
    static final List<String> KERNEL = List.of("schedule+0x23", "do_nanosleep+0x5e", "entry_SYSCALL_64_after_hwframe+0x76");
    static final List<String> NATIVE = List.of("clock_nanosleep+0x23 (libc.so.6)", "main+0x10 (storm)");
    static final List<String> JVM = List.of("__futex_abstimed_wait_common+0x1 (libc.so.6)",
            "void Loop.handle(int)+0x3c (jit)");
    static final JavaContext JAVA = new JavaContext(true, "loop-thread-number-1", 3, false,
            List.of("java.lang.Thread.sleep(Thread.java:500)", "Loop.handle(Loop.java:12)", "Loop.run(Loop.java:5)"), false);

    private final ObjectMapper mapper = new ObjectMapper();

    /** A sleep of {@code thread} (tid) that began {@code atNanos} into the session. */
    static NamedEvent event(String thread, int tid, long atNanos, String syscall, List<String> user, Optional<JavaContext> java,
                            OptionalLong length) {
        int wait = java.isPresent() ? JavaWait.SLEEP.code() : JavaWait.NONE;
        BlockingEvent event = new BlockingEvent(START + atNanos, 40, tid, thread, 230, new long[6], 1, new long[0], new long[0],
                1, 1, wait);
        return new NamedEvent(event, syscall, KERNEL, user, length, false, CompletableFuture.completedFuture(java), Optional.empty());
    }

    static NamedEvent nativeSleep(int tid, long atNanos, long lengthNanos) {
        return event("storm", tid, atNanos, "clock_nanosleep", NATIVE, Optional.empty(), OptionalLong.of(lengthNanos));
    }

    private JsonNode json(HtmlReport report, long dropped) throws Exception {
        return mapper.readTree(report.json(dropped, START + 5_000_000_000L));
    }

    private static HtmlReport report(int timelineLimit) {
        return new HtmlReport(timelineLimit, START, START_EPOCH_MILLIS);
    }

    /** The frames of each stack, by name and kind, root first. */
    private static List<String> stacks(JsonNode data) {
        List<String> stacks = new ArrayList<>();
        for (JsonNode stack : data.get("stacks")) {
            List<String> frames = new ArrayList<>();
            frames.add(stack.get("thread").asText() + "/" + stack.get("what").asText());
            stack.get("frames").forEach(index -> {
                JsonNode frame = data.get("frames").get(index.asInt());
                frames.add(frame.get(0).asText() + " [" + frame.get(1).asText() + "]");
            });
            stacks.add(String.join(" ; ", frames) + " x" + stack.get("sleeps").asLong());
        }
        return stacks;
    }

    @Test
    void stacksGoRootFirstJavaThenUserThenKernelEachFrameWithItsKind() throws Exception {
        HtmlReport report = report(10);
        report.sleep(event("loop-thread-nu", 11, 0, "futex", JVM, Optional.of(JAVA), OptionalLong.of(5_000_000)));
        report.sleep(nativeSleep(12, 1_000, 1_000_000));

        JsonNode data = json(report, 0);
        assertThat(data.get("schema").asText()).isEqualTo(HtmlReport.SCHEMA);
        assertThat(stacks(data)).containsExactly(
                "loop-thread-nu/futex (sleep) ; Loop.run [java] ; Loop.handle [java] ; java.lang.Thread.sleep [java]"
                        + " ; void Loop.handle(int) (jit) [jit] ; __futex_abstimed_wait_common (libc.so.6) [native]"
                        + " ; entry_SYSCALL_64_after_hwframe [kernel] ; do_nanosleep [kernel] ; schedule [kernel] x1",
                "storm/clock_nanosleep ; main (storm) [native] ; clock_nanosleep (libc.so.6) [native]"
                        + " ; entry_SYSCALL_64_after_hwframe [kernel] ; do_nanosleep [kernel] ; schedule [kernel] x1");
        assertThat(data.get("frames")).as("each frame written once: the kernel's are shared").hasSize(10);
    }

    @Test
    void aJavaStackTakenAfterTheThreadWokeHasANoteUnderItsJavaFrames() throws Exception {
        HtmlReport report = report(10);
        JavaContext afterWake = new JavaContext(true, "loop", 3, false, JAVA.stack(), true);
        report.sleep(event("loop", 11, 0, "futex", JVM, Optional.of(JAVA), OptionalLong.of(2_000)));
        report.sleep(event("loop", 11, 10, "futex", JVM, Optional.of(afterWake), OptionalLong.of(3_000)));

        assertThat(stacks(json(report, 0))).hasSize(2).last().asString()
                .startsWith("loop/futex (sleep) ; Loop.run [java] ; Loop.handle [java] ; java.lang.Thread.sleep [java] ; "
                        + HtmlReport.AFTER_WAKE + " [note] ; void Loop.handle(int) (jit) [jit]");
    }

    @Test
    void stacksThatDifferOnlyInOffsetsOrLinesMerge() throws Exception {
        HtmlReport report = report(10);
        JavaContext otherLine = new JavaContext(true, "loop", 3, false,
                List.of("java.lang.Thread.sleep(Thread.java:501)", "Loop.handle(Loop.java:13)", "Loop.run(Loop.java:5)"), false);
        List<String> otherOffset = List.of("__futex_abstimed_wait_common+0x9 (libc.so.6)", "void Loop.handle(int)+0x40 (jit)");
        report.sleep(event("loop", 11, 0, "futex", JVM, Optional.of(JAVA), OptionalLong.of(2_000)));
        report.sleep(event("loop", 11, 10, "futex", otherOffset, Optional.of(otherLine), OptionalLong.of(3_000)));

        JsonNode stack = json(report, 0).get("stacks");
        assertThat(stack).hasSize(1);
        assertThat(stack.get(0).get("sleeps").asLong()).isEqualTo(2);
        assertThat(stack.get(0).get("blockedNs").asLong()).isEqualTo(5_000);
    }

    @Test
    void javaFramesLoseTheirLoaderModuleAndLineAndKeepAHiddenClasssName() {
        assertThat(HtmlReport.javaMethod("app//BlockingLoops.sleepInHandler(BlockingLoops.java:37)"))
                .isEqualTo("BlockingLoops.sleepInHandler");
        assertThat(HtmlReport.javaMethod("java.base@25.0.3/java.lang.Thread.sleep(Thread.java:540)"))
                .isEqualTo("java.lang.Thread.sleep");
        assertThat(HtmlReport.javaMethod("com.foo.loader/foo@9.0/com.foo.Main.run(Main.java:101)")).isEqualTo("com.foo.Main.run");
        assertThat(HtmlReport.javaMethod("app//BlockingLoops$$Lambda/0x000000007b045c20.run(Unknown Source)"))
                .isEqualTo("BlockingLoops$$Lambda/0x000000007b045c20.run");
        assertThat(HtmlReport.javaMethod("java.base/jdk.internal.misc.Unsafe.park(Native Method)"))
                .isEqualTo("jdk.internal.misc.Unsafe.park");
        assertThat(HtmlReport.javaMethod("a.B.c(B.java:12)")).isEqualTo("a.B.c");
    }

    @Test
    void tallySleepsAndTheTimeBlockedBySyscallAndByThread() throws Exception {
        HtmlReport report = report(10);
        report.sleep(nativeSleep(12, 0, 1_000_000));
        report.sleep(nativeSleep(12, 10, 3_000_000));
        report.sleep(event("storm", 13, 20, "read", NATIVE, Optional.empty(), OptionalLong.empty()));
        report.sleep(event("loop-thread-nu", 14, 30, "futex", JVM, Optional.of(JAVA), OptionalLong.of(7)));

        JsonNode data = json(report, 4);
        assertThat(data.get("sleeps").asLong()).isEqualTo(4);
        assertThat(data.get("dropped").asLong()).isEqualTo(4);
        assertThat(data.get("startedAt").asText()).isEqualTo("2026-11-30T00:53:20Z");
        assertThat(data.get("endNs").asLong()).isEqualTo(5_000_000_000L);
        JsonNode nanosleep = data.get("syscalls").get(0);
        assertThat(nanosleep.get("name").asText()).isEqualTo("clock_nanosleep");
        assertThat(nanosleep.get("sleeps").asLong()).isEqualTo(2);
        assertThat(nanosleep.get("blockedNs").asLong()).isEqualTo(4_000_000);
        assertThat(nanosleep.get("longestNs").asLong()).isEqualTo(3_000_000);
        JsonNode read = data.get("syscalls").get(1);
        assertThat(read.get("sleeps").asLong()).isEqualTo(1);
        assertThat(read.get("withLength").asLong()).as("its end was not seen").isZero();
        assertThat(data.get("syscalls").get(2).get("name").asText()).isEqualTo("futex (sleep)");
        assertThat(data.get("threads")).extracting(thread -> thread.get("tid").asInt() + " " + thread.get("sleeps").asLong())
                .containsExactly("12 2", "13 1", "14 1");
        assertThat(data.get("threads").get(2).get("javaName").asText()).as("the JVM's name, not the kernel's 15 characters")
                .isEqualTo("loop-thread-number-1");
        assertThat(data.get("threads").get(0).has("javaName")).isFalse();
    }

    @Test
    void theTimelineKeepsTheMostRecentSleepsAndCountsTheOthers() throws Exception {
        HtmlReport report = report(3);
        for (int i = 0; i < 5; i++) {
            report.sleep(nativeSleep(12 + i % 2, i * 1_000L, 100));
        }

        JsonNode timeline = json(report, 0).get("timeline");
        assertThat(timeline.get("limit").asInt()).isEqualTo(3);
        assertThat(timeline.get("leftOut").asLong()).isEqualTo(2);
        assertThat(timeline.get("marks")).extracting(mark -> mark.toString())
                .containsExactly("[0,0,2000,100,false]", "[1,0,3000,100,false]", "[0,0,4000,100,false]");
    }

    @Test
    void aSleepWrittenWhileItsThreadSleptGetsItsLengthWhenItWakes() throws Exception {
        HtmlReport report = report(10);
        NamedEvent asleep = nativeSleep(12, 0, 1).whileAsleep();
        NamedEvent neverWoke = nativeSleep(13, 10, 1).whileAsleep();
        report.sleep(asleep);
        report.sleep(neverWoke);
        report.sleep(event("storm", 14, 20, "clock_nanosleep", NATIVE, Optional.empty(), OptionalLong.empty()));
        report.woke(asleep, 2_000_000_000L);

        JsonNode data = json(report, 0);
        assertThat(data.get("timeline").get("marks")).extracting(mark -> mark.toString())
                .containsExactly("[0,0,0,2000000000,false]", "[1,0,10,null,true]", "[2,0,20,null,false]");
        assertThat(data.get("syscalls").get(0).get("blockedNs").asLong()).isEqualTo(2_000_000_000L);
        assertThat(data.get("threads").get(0).get("withLength").asLong()).isEqualTo(1);
        assertThat(data.get("stacks").get(0).get("blockedNs").asLong()).isEqualTo(2_000_000_000L);
    }

    @Test
    void anEmptyReportIsStillAPage() throws Exception {
        JsonNode data = json(report(10), 0);
        assertThat(data.get("sleeps").asLong()).isZero();
        assertThat(data.get("stacks")).isEmpty();
        assertThat(data.get("timeline").get("marks")).isEmpty();
    }
}
