package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.SleepEnd;
import dev.eventloopguardian.sys.Linux;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/** How events wait for the end of their sleep, and what is written when it comes, or does not. */
class OpenSleepsTest {
    /** A pid no process has: its threads read as exited. */
    private static final int NO_SUCH_PID = Integer.MAX_VALUE;

    private final List<String> written = new ArrayList<>();
    private final List<Integer> forgotten = new ArrayList<>();

    private OpenSleeps sleeps(Duration minimum) {
        return new OpenSleeps(minimum, new OpenSleeps.Output() {
            @Override
            public boolean sleep(NamedEvent named) {
                written.add("sleep " + named.event().tid() + " " + (named.stillAsleep() ? "asleep"
                        : named.blockedNanos().isPresent() ? named.blockedNanos().getAsLong() + " ns" : "unknown"));
                return true;
            }

            @Override
            public void woke(NamedEvent named, long nanos) {
                written.add("woke " + named.event().tid() + " " + nanos + " ns");
            }
        }, forgotten::add);
    }

    private static NamedEvent event(long start, int pid, int tid, long switches) {
        return new NamedEvent(new BlockingEvent(start, pid, tid, "loop", 230, new long[6], 1, new long[0], new long[0],
                switches, 1, dev.eventloopguardian.guard.JavaWait.NONE), "clock_nanosleep", List.of(), List.of());
    }

    @Test
    void anEventIsWrittenWithItsLengthWhenItsEndComes() {
        OpenSleeps sleeps = sleeps(Duration.ZERO);
        long now = System.nanoTime();
        sleeps.add(event(now, NO_SUCH_PID, 7, 1));
        assertThat(written).as("held until the end").isEmpty();
        sleeps.ended(new SleepEnd(now, NO_SUCH_PID, 7, 1_500_000));
        assertThat(written).containsExactly("sleep 7 1500000 ns");
        assertThat(sleeps.waiting()).isFalse();
    }

    @Test
    void anEndForAnotherSleepOfTheThreadIsIgnored() {
        OpenSleeps sleeps = sleeps(Duration.ZERO);
        long now = System.nanoTime();
        sleeps.add(event(now, NO_SUCH_PID, 7, 1));
        sleeps.ended(new SleepEnd(now - 1, NO_SUCH_PID, 7, 10));
        sleeps.ended(new SleepEnd(now, NO_SUCH_PID, 8, 10));
        assertThat(written).isEmpty();
        assertThat(sleeps.waiting()).isTrue();
    }

    @Test
    void aMinimumDropsSleepsThatEndedSoonerAndKeepsTheOthers() {
        OpenSleeps sleeps = sleeps(Duration.ofMillis(10));
        long now = System.nanoTime();
        sleeps.add(event(now, NO_SUCH_PID, 1, 1));
        sleeps.add(event(now, NO_SUCH_PID, 2, 1));
        sleeps.ended(new SleepEnd(now, NO_SUCH_PID, 1, 9_999_999));
        sleeps.ended(new SleepEnd(now, NO_SUCH_PID, 2, 10_000_000));
        assertThat(written).containsExactly("sleep 2 10000000 ns");
    }

    @Test
    void aThreadThatExitedBeforeItsEndIsWrittenWithoutALengthAndForgotten() {
        OpenSleeps sleeps = sleeps(Duration.ZERO);
        sleeps.add(event(System.nanoTime() - OpenSleeps.HOLD.toNanos(), NO_SUCH_PID, 7, 1));
        sleeps.check();
        assertThat(written).containsExactly("sleep 7 unknown");
        assertThat(forgotten).containsExactly(7);
    }

    @Test
    void withAMinimumAThreadThatExitedBeforeItsEndIsDropped() {
        OpenSleeps sleeps = sleeps(Duration.ofMillis(10));
        sleeps.add(event(System.nanoTime() - 20_000_000, NO_SUCH_PID, 7, 1));
        sleeps.check();
        assertThat(written).isEmpty();
        assertThat(forgotten).containsExactly(7);
    }

    @Test
    void aThreadStillAsleepAtTheDeadlineIsWrittenAsAsleepAndItsWakeUpFollows() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Thread sleeper = Thread.ofPlatform().name("elg-sleeper").start(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            int tid = awaitBlockedTid("elg-sleeper");
            OpenSleeps sleeps = sleeps(Duration.ofMillis(10));
            long start = System.nanoTime() - 20_000_000;
            sleeps.add(event(start, Linux.pid(), tid, switches(tid)));
            sleeps.check();
            assertThat(written).containsExactly("sleep " + tid + " asleep");
            sleeps.ended(new SleepEnd(start, Linux.pid(), tid, 42_000_000));
            assertThat(written).containsExactly("sleep " + tid + " asleep", "woke " + tid + " 42000000 ns");
        } finally {
            release.countDown();
            sleeper.join();
        }
    }

    /** The tid of this JVM's thread named {@code name}, once it sleeps (S in its stat). */
    private static int awaitBlockedTid(String name) throws Exception {
        for (int attempt = 0; attempt < 500; attempt++) {
            try (var tasks = Files.list(Path.of("/proc/self/task"))) {
                for (Path task : tasks.toList()) {
                    String stat = Files.readString(task.resolve("stat"));
                    if (Files.readString(task.resolve("comm")).strip().equals(name)
                            && stat.charAt(stat.lastIndexOf(')') + 2) == 'S') {
                        return Integer.parseInt(task.getFileName().toString());
                    }
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no sleeping thread named " + name);
    }

    private static long switches(int tid) throws Exception {
        return Long.parseLong(Files.readString(Path.of("/proc/self/task", Integer.toString(tid), "schedstat")).trim()
                .split(" ")[2]);
    }
}
