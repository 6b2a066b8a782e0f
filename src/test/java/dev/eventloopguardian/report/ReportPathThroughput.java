package dev.eventloopguardian.report;

import com.sun.management.ThreadMXBean;
import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.JavaWait;
import dev.eventloopguardian.guard.SleepEnd;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.symbols.PerfMapWriter;
import dev.eventloopguardian.sys.Arch;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.lang.foreign.Linker;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU an event costs the report path once it is read from the ring buffer, on this thread
 * alone: naming its stacks, holding it until its sleep's end, counting it and writing its JSON
 * line (to a stream that drops it), flushed every {@value #BATCH} events as the reader does. No
 * kernel and no storm: a figure that the machine's other load moves little, to compare two
 * builds. A main, not a test, so that timing never makes the build flaky:
 * {@code java --enable-native-access=ALL-UNNAMED -cp target/classes:target/test-classes:JARS
 * dev.eventloopguardian.report.ReportPathThroughput [seconds] [user frames]}.
 *
 * <p>Events are this process's own: user stacks of real libc and JVM addresses (named as a storm's
 * are, from the process's maps), kernel stacks of real kernel functions from kallsyms.
 */
public final class ReportPathThroughput {
    private static final int BATCH = 200;
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    private ReportPathThroughput() {
    }

    public static void main(String[] args) throws Exception {
        Duration duration = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 5);
        int userFrames = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        long[] kernel = kernelStack();
        long[] user = userStack(userFrames);
        StackNames names = new StackNames(SyscallTable.of(Arch.current()), KernelSymbols.kallsyms(), PerfMapWriter.refusing("a benchmark asks no JVM"),
                note -> { });
        Summary summary = new Summary();
        ReportOutput output = new ReportOutput("null", new BufferedWriter(new OutputStreamWriter(OutputStream.nullOutputStream(),
                StandardCharsets.UTF_8)));
        EventFormat format = EventFormat.named("json", output);
        OpenSleeps sleeps = new OpenSleeps(Duration.ZERO, new OpenSleeps.Output() {
            @Override
            public boolean sleep(NamedEvent named) {
                if (HotSpotOwnSleeps.isHotSpotsOwn(named.userStack())) {
                    return false;
                }
                summary.add(named);
                format.write(named);
                output.eventWritten();
                return true;
            }

            @Override
            public void woke(NamedEvent named, long nanos) {
                format.woke(named, nanos);
            }
        }, tid -> { });
        int pid = (int) ProcessHandle.current().pid();
        long events = 0;
        long warmUpEnd = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        long cpuStart = 0;
        long end = Long.MAX_VALUE;
        for (long time = 1; System.nanoTime() < end; time++) {
            int tid = pid + (int) (time & 1);
            BlockingEvent event = new BlockingEvent(time, pid, tid, "storm", 0, new long[] {3, time, 1, 0, 0, 0}, 1,
                    kernel.clone(), user.clone(), 1, 1, JavaWait.NONE);
            sleeps.add(names.name(event));
            sleeps.ended(new SleepEnd(time, pid, tid, 20_000));
            events++;
            if (events % BATCH == 0) {
                format.flush();
                if (end == Long.MAX_VALUE && System.nanoTime() > warmUpEnd) {
                    events = 0;
                    cpuStart = THREADS.getCurrentThreadCpuTime();
                    end = System.nanoTime() + duration.toNanos();
                }
            }
        }
        long cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
        System.out.printf("%d user frames, %d kernel frames: %,d events, %.0f ns CPU per event (%,.0f events per CPU second)%n",
                user.length, kernel.length, events, (double) cpu / events, events * 1e9 / cpu);
        System.out.printf("load %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
    }

    /** Return addresses inside libc functions and the JVM: what a storm's frame-pointer walk gives. */
    private static long[] userStack(int frames) {
        String[] functions = {"read", "clock_nanosleep", "nanosleep", "write", "poll", "epoll_wait", "malloc", "free"};
        long[] stack = new long[frames];
        for (int i = 0; i < frames; i++) {
            stack[i] = Linker.nativeLinker().defaultLookup().find(functions[i % functions.length]).orElseThrow().address() + 0x10;
        }
        return stack;
    }

    private static long[] kernelStack() throws IOException {
        List<String> wanted = List.of("schedule", "schedule_hrtimeout_range", "do_nanosleep", "hrtimer_nanosleep",
                "do_syscall_64", "entry_SYSCALL_64_after_hwframe");
        List<Long> found = new ArrayList<>();
        for (String function : wanted) {
            try (var lines = Files.lines(KernelSymbols.KALLSYMS)) {
                lines.map(line -> line.split(" ")).filter(f -> f.length >= 3 && f[2].equals(function)).findFirst()
                        .ifPresent(f -> found.add(Long.parseUnsignedLong(f[0], 16) + 0x20));
            }
        }
        return found.stream().mapToLong(Long::longValue).toArray();
    }
}
