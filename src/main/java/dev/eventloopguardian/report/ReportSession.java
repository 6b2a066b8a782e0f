package dev.eventloopguardian.report;

import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.GuardedCommand;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Executable;
import dev.eventloopguardian.sys.Linux;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs COMMAND as our child with the guard reporting, and prints what it reports until the
 * child exits. The child is a tiny shell that stops itself before exec: we attach the guard
 * to it while it is stopped, with {@code enable_on_exec}, and let it go, so COMMAND is guarded
 * from its first instruction and the shell before it never is.
 */
public final class ReportSession {
    private static final int SIGCONT = 18;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(100);

    private ReportSession() {
    }

    /** The output formats, for option validation and help. */
    public static final java.util.List<String> FORMATS = EventFormat.NAMES;

    /**
     * Runs {@code command}, writing events in {@code format} to {@code out} and our own notes to
     * {@code err}; returns its exit status as a shell reports it (128 + N when killed by signal N).
     */
    public static int run(Guard guard, GuardedCommand command, boolean allThreads, String format, Writer out,
                          PrintWriter err, Optional<Writer> folded, Duration minDuration)
            throws GuardException, Executable.NotRunnable, IOException, InterruptedException {
        command.checkGuardable();
        List<String> stub = new ArrayList<>(List.of("/bin/sh", "-c", "kill -STOP $$ && exec \"$@\"", "eventloop-guardian",
                command.path().toString()));
        stub.addAll(command.arguments());
        StackNames names = new StackNames(SyscallTable.of(Arch.current()), KernelSymbols.kallsyms());
        names.warmUp();
        Process child = new ProcessBuilder(stub).inheritIO().start();
        Summary summary = new Summary();
        try (EventFormat report = EventFormat.named(format, out);
             LongSleeps sleeps = new LongSleeps(minDuration, named -> {
                 summary.add(named);
                 report.write(named);
             });
             RingBuffer events = guard.events(event -> sleeps.add(names.name(event)))) {
            awaitStopped(child);
            try (PerfEvent ignored = guard.armProcessForExec((int) child.pid(), allThreads);
                 SignalForwarding forwarding = SignalForwarding.to(child.pid())) {
                Linux.kill((int) child.pid(), SIGCONT);
                while (child.isAlive()) {
                    events.poll(sleeps.waiting() ? LongSleeps.CHECK_INTERVAL : POLL);
                    sleeps.check();
                }
                events.consume();
                sleeps.check();
            }
            long dropped = guard.droppedEvents();
            summary.print(err, dropped);
            if (dropped > 0) {
                err.println("eventloop-guardian: " + dropped + " events were dropped because the ring buffer was full");
                err.flush();
            }
            folded.ifPresent(summary::writeFolded);
            return child.exitValue();
        } finally {
            child.destroyForcibly();
        }
    }

    /** Waits until the child's shell has stopped itself ({@code T} in /proc/PID/stat). */
    private static void awaitStopped(Process child) throws IOException, InterruptedException {
        Path stat = Path.of("/proc", Long.toString(child.pid()), "stat");
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String line = Files.readString(stat);
            char state = line.charAt(line.lastIndexOf(')') + 2);
            if (state == 'T') {
                return;
            }
            if (!child.isAlive()) {
                throw new IOException("COMMAND's launcher exited with status " + child.exitValue() + " before it could be guarded");
            }
            Thread.sleep(1);
        }
        throw new IOException("COMMAND's launcher did not stop within " + STOP_TIMEOUT.toSeconds() + " s");
    }
}
