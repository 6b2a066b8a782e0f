package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.JavaWait;
import dev.eventloopguardian.guard.SleepEnd;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.symbols.PerfMapWriter;
import dev.eventloopguardian.sys.Arch;

import java.io.Writer;
import java.lang.foreign.Linker;
import java.time.Duration;

/**
 * The report path run on made-up sleeps: named, held until their end, counted in a summary of
 * its own and written in the session's format to nowhere. A session rehearses when it starts, on
 * a thread of its own, so that the JIT has compiled that path before a storm needs it: a reader
 * that met its first storm cold (interpreted, its compilers busy) lost about 10 000 of the first
 * second's 100 000 sleeps of a three-pair pipe storm, and none of a second storm's ten seconds.
 * {@code ReportPathThroughput} times the same rehearsal.
 *
 * <p>The sleeps are this process's: its pid, user frames at libc functions it maps, kernel
 * frames in the kernel's half of the address space. Nothing of them reaches the session's report.
 */
final class ReportRehearsal {
    /** Enough calls for the per-event methods to reach C2 (Tier4 thresholds: 5 000 calls, 15 000 with loops). */
    static final int SESSION_SLEEPS = 30_000;
    /** Sleeps between flushes, as the reader flushes once per batch. */
    private static final int BATCH = 200;

    private final StackNames names;
    private final Summary summary = new Summary();
    private final EventFormat format;
    private final OpenSleeps sleeps;
    private final long[] kernelStack;
    private final long[] userStack;
    private final long offCpuNanos;
    private final int pid = (int) ProcessHandle.current().pid();
    private final int syscall;
    private long time;

    ReportRehearsal(KernelSymbols kernel, long[] kernelStack, long[] userStack, String format, Duration minDuration) {
        SyscallTable syscalls = SyscallTable.of(Arch.current());
        this.names = new StackNames(syscalls, kernel, PerfMapWriter.refusing("a rehearsal asks no JVM"), note -> { });
        ReportOutput output = new ReportOutput("nowhere", Writer.nullWriter());
        this.format = EventFormat.named(format, output);
        this.sleeps = new OpenSleeps(minDuration, new SleepWriter(summary, this.format, output, SessionObserver.NONE), exited -> { });
        this.kernelStack = kernelStack.clone();
        this.userStack = userStack.clone();
        // Long enough for --min-duration to let every sleep through to the writer.
        this.offCpuNanos = minDuration.toNanos() + 1_000_000;
        this.syscall = syscalls.number("read").orElse(0);
    }

    /** The rehearsal a session runs: a dozen kernel frames and eight user frames, in its format. */
    static ReportRehearsal forSession(KernelSymbols kernel, ReportSettings settings) {
        long[] kernelStack = new long[12];
        for (int i = 0; i < kernelStack.length; i++) {
            kernelStack[i] = 0xffff_ffff_8100_0000L + 0x1_0000L * i + 0x2c;
        }
        return new ReportRehearsal(kernel, kernelStack, libcFrames(8), settings.format(), settings.minDuration());
    }

    /** Return addresses inside libc functions this process maps: what a storm's frame-pointer walk gives. */
    static long[] libcFrames(int frames) {
        String[] functions = {"read", "clock_nanosleep", "nanosleep", "write", "poll", "epoll_wait", "malloc", "free"};
        long[] stack = new long[frames];
        for (int i = 0; i < frames; i++) {
            stack[i] = Linker.nativeLinker().defaultLookup().find(functions[i % functions.length])
                    .map(symbol -> symbol.address() + 0x10).orElse(0L);
        }
        return stack;
    }

    /** Runs {@code count} sleeps through the path, each ended at once, flushing once per batch. */
    void run(int count) {
        for (int i = 0; i < count; i++) {
            time++;
            int tid = pid + (int) (time & 1);
            BlockingEvent event = new BlockingEvent(time, pid, tid, "rehearsal", syscall, new long[] {3, time, 1, 0, 0, 0},
                    1, kernelStack.clone(), userStack.clone(), 1, 1, JavaWait.NONE);
            sleeps.add(names.name(event));
            sleeps.ended(new SleepEnd(time, pid, tid, offCpuNanos));
            if (time % BATCH == 0) {
                format.flush();
            }
        }
        format.flush();
    }

    /**
     * Rehearses {@link #SESSION_SLEEPS} sleeps on a daemon thread of its own, now. Best effort:
     * a rehearsal that fails (this process's memory map unreadable, say) only leaves the JIT
     * colder, and says nothing, since a session's stderr may be its command's.
     */
    static void startForSession(KernelSymbols kernel, ReportSettings settings) {
        Thread.ofPlatform().daemon().name("report rehearsal").start(() -> {
            try {
                forSession(kernel, settings).run(SESSION_SLEEPS);
            } catch (RuntimeException e) {
                // nothing to undo: its objects were its own
            }
        });
    }

    /** How many rehearsed sleeps went all the way to the writer. */
    long written() {
        return summary.events();
    }
}
