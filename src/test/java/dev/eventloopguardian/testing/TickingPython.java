package dev.eventloopguardian.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Python process that stands for a live event loop under the guard: it writes its pid, then
 * sleeps 50 ms at a time (a blocking sleep, reported in report mode) and writes {@code tick N}
 * every second, to a file rather than stdout. Whether it still makes progress is read from the
 * file. Not stdout: in report mode that is the guardian's pipe to the test, and when the
 * guardian dies the JDK closes its end of it (Process drains and closes a dead child's
 * output), so COMMAND would die of SIGPIPE at its next line for a reason no user has.
 */
public final class TickingPython {
    private static final String PROGRAM = String.join("\n",
            "import os, sys, time",
            "out = open(sys.argv[1], 'w', buffering=1)",
            "print('pid', os.getpid(), file=out)",
            "n = 0",
            "while True:",
            "    for _ in range(20):",
            "        time.sleep(0.05)",
            "    n += 1",
            "    print('tick', n, file=out)");
    private static final Pattern PID = Pattern.compile("^pid (\\d+)$", Pattern.MULTILINE);
    private static final Pattern TICK = Pattern.compile("^tick (\\d+)$", Pattern.MULTILINE);

    private TickingPython() {
    }

    /** The command line that runs it on the machine's real interpreter, writing to {@code output}. */
    public static List<String> command(Path output) {
        return List.of(Python.executable(), "-c", PROGRAM, output.toString());
    }

    /** Starts it on its own, writing to {@code output}. */
    public static Process startWritingTo(Path output) throws IOException {
        return new ProcessBuilder(command(output)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** What {@code file} holds each time it is asked, empty before it exists. */
    public static Supplier<String> contentOf(Path file) {
        return () -> {
            try {
                return Files.exists(file) ? Files.readString(file) : "";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /** The pid it printed first. */
    public static long pid(String output) {
        Matcher matcher = PID.matcher(output);
        if (!matcher.find()) {
            throw new AssertionError("no pid line in:\n" + output);
        }
        return Long.parseLong(matcher.group(1));
    }

    /** Waits until the file says {@code tick N} with N at least {@code tick}: the loop is running. */
    public static void awaitTick(Path output, int tick, Duration timeout) throws InterruptedException {
        awaitTick(contentOf(output), tick, timeout);
    }

    /**
     * Waits until {@code output} shows two more ticks than it does now: the loop still runs
     * (two, since the first may have been on its way already). Fails after {@code timeout}.
     */
    public static void assertKeepsTicking(Supplier<String> output, Duration timeout) throws InterruptedException {
        awaitTick(output, lastTick(output.get()) + 2, timeout);
    }

    private static void awaitTick(Supplier<String> output, int tick, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (lastTick(output.get()) < tick) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no tick " + tick + " within " + timeout + ":\n" + output.get());
            }
            Thread.sleep(50);
        }
    }

    private static int lastTick(String output) {
        int last = 0;
        Matcher matcher = TICK.matcher(output);
        while (matcher.find()) {
            last = Integer.parseInt(matcher.group(1));
        }
        return last;
    }
}
