package dev.eventloopguardian.cli;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A storm of blocking sleeps while the guardian cannot read (stopped, as a guardian starved of CPU
 * or writing to a stuck terminal would be): the ring buffer fills, the kernel counts what it
 * cannot queue, and every sleep is either reported or counted. The target and the guardian go on.
 */
@KernelTest
class StormTest {
    private static final int SIGSTOP = 19;
    private static final int SIGCONT = 18;

    @Test
    void everySleepOfAStormIsReportedOrCountedAsDroppedAndNothingFalls(@TempDir Path directory) throws Exception {
        // Three threads sleep 50 µs at a time, as fast as they can, for 3.5 s, and count their sleeps.
        String storm = String.join("\n",
                "import threading, time",
                "counts = []",
                "def storm():",
                "    n, end = 0, time.monotonic() + 3.5",
                "    while time.monotonic() < end:",
                "        time.sleep(0.00005)",
                "        n += 1",
                "    counts.append(n)",
                "threads = [threading.Thread(target=storm) for _ in range(3)]",
                "[t.start() for t in threads]",
                "[t.join() for t in threads]",
                "print(sum(counts))");
        Path events = directory.resolve("events.jsonl");
        Guardian.Result result;
        try (Guardian.Running running = guardian().start("--report", "--all-threads", "--format", "json", "--output",
                events.toString(), Python.executable(), "-c", storm)) {
            awaitFirstEvents(events); // the storm is on: the guardian runs it and reads it
            Linux.kill((int) running.pid(), SIGSTOP);
            Thread.sleep(2000); // far more sleeps than the ring buffer holds (4 MiB: 4 500 to 19 000 sleeps)
            Linux.kill((int) running.pid(), SIGCONT);
            result = running.result();
        }
        assertThat(result.status()).as(result.toString()).isZero();
        long sleeps = Long.parseLong(result.stdout().strip());
        Matcher summary = Pattern.compile("summary: (\\d+) blocking sleeps, (\\d+) dropped").matcher(result.stderr());
        assertThat(summary.find()).as(result.toString()).isTrue();
        long reported = Long.parseLong(summary.group(1));
        long dropped = Long.parseLong(summary.group(2));

        assertThat(dropped).as("the ring buffer overflowed while the guardian was stopped: " + result).isPositive();
        assertThat(result.stderr()).contains(dropped + " blocking sleeps were not reported because the ring buffer was full");
        assertThat(Files.readAllLines(events)).as("each reported sleep is a line").hasSize((int) reported);
        assertThat(reported).as("reported after the guardian resumed").isGreaterThan(sleeps / 10);
        // Each time.sleep is one switch-out into a sleep: one event, or one drop the kernel counted.
        assertThat(reported + dropped).as("%d sleeps made, %d reported, %d dropped", sleeps, reported, dropped)
                .isBetween(sleeps * 99 / 100, sleeps + 20);
    }

    /** Waits until the guardian has written events: on a loaded machine its JVM may take seconds to start. */
    private static void awaitFirstEvents(Path events) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(events) || Files.size(events) == 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the guardian wrote no event in 30 s");
            }
            Thread.sleep(20);
        }
    }
}
