package dev.eventloopguardian.cli;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.HeldObjects;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.TickingPython;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Attaching and detaching again and again, as an operator looking at a live service would:
 * the target must come out of it as it went in. Nothing we do should reach into its address
 * space or descriptor table (the events live in the kernel, the descriptors in the guardian),
 * so any growth there is a leak a user would see in {@code ls /proc/PID/fd} or in {@code top}.
 */
@KernelTest
class AttachCyclesTest {
    private static final int SIGINT = 2;
    /**
     * Each cycle starts a fresh guardian JVM (start-up, BTF, attach, Ctrl-C, summary): 0.7-1.5 s
     * on this 2-core VM beside other builds, so the 31 cycles took 21-45 s in all. Fewer would find
     * a per-cycle leak less surely; more would pass the minute this test may take.
     */
    private static final int CYCLES = 30;
    /**
     * The target's RSS may move by this much (64 pages) without counting as growth. The ticking
     * Python loop allocates nothing that lasts: its VmRSS was the same to the KiB before and
     * after 30 cycles here (13 616 KiB). Anything the guard could leave in the target — a
     * mapping of the 8 MiB ring buffer, a library — is far larger, and a leak of three pages
     * (12 KiB) or more per cycle adds up past it over 30 cycles; the margin is for the interpreter's own
     * pages on another Python build.
     */
    private static final long RSS_TOLERANCE_KIB = 256;

    @Test
    void attachingAndDetachingManyTimesLeavesTheTargetAsItWas(@TempDir Path directory) throws Exception {
        Path output = directory.resolve("target.out");
        Process target = TickingPython.startWritingTo(output);
        try {
            HeldObjects all = attachAndDetach(target.pid()); // warm-up: the target's first seconds are its start-up
            int descriptorsBefore = descriptors(target.pid());
            long rssBefore = rssKib(target.pid());
            for (int cycle = 1; cycle <= CYCLES; cycle++) {
                all = all.and(attachAndDetach(target.pid()));
            }
            int descriptorsAfter = descriptors(target.pid());
            long rssAfter = rssKib(target.pid());

            assertThat(descriptorsAfter).as("the target's open descriptors after " + CYCLES + " cycles")
                    .isEqualTo(descriptorsBefore);
            assertThat(rssAfter).as("the target's VmRSS in KiB after " + CYCLES + " cycles, before: " + rssBefore)
                    .isBetween(rssBefore - RSS_TOLERANCE_KIB, rssBefore + RSS_TOLERANCE_KIB);
            assertThat(all.stillInTheKernel()).as("objects of the detached guardians still in the kernel").isEmpty();
            TickingPython.assertKeepsTicking(TickingPython.contentOf(output), Duration.ofSeconds(10));
            assertThat(target.isAlive()).isTrue();
        } finally {
            target.destroyForcibly();
        }
    }

    /** One guardian attached until it says so, then Ctrl-C; returns what it held while attached. */
    private static HeldObjects attachAndDetach(long pid) {
        try (Guardian.Running guardian = guardian().start("attach", "--pid", Long.toString(pid))) {
            guardian.awaitStderr("attached to pid " + pid, Duration.ofSeconds(30));
            HeldObjects held = HeldObjects.of(guardian.pid());
            Linux.kill((int) guardian.pid(), SIGINT);
            Guardian.Result result = guardian.result();
            assertThat(result.status()).as(result.toString()).isZero();
            assertThat(result.stderr()).as(result.toString()).contains("SIGINT: detached from pid " + pid);
            assertThat(held.programIds()).as("a guard was attached").isNotEmpty();
            return held;
        }
    }

    private static int descriptors(long pid) throws IOException {
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return Math.toIntExact(fds.count());
        }
    }

    private static long rssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring("VmRSS:".length()).replace("kB", "").strip());
            }
        }
        throw new AssertionError("no VmRSS in /proc/" + pid + "/status");
    }
}
