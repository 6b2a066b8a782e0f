package dev.eventloopguardian.report;

import com.sun.management.ThreadMXBean;
import dev.eventloopguardian.symbols.KernelSymbols;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU an event costs the report path once it is read from the ring buffer, on this thread
 * alone: naming its stacks, holding it until its sleep's end, counting it and writing its JSON
 * line (to a stream that drops it), flushed every 200 events as the reader does; the path a
 * session rehearses when it starts ({@link ReportRehearsal}), timed once it is compiled. No
 * kernel and no storm: a figure that the machine's other load moves little, to compare two
 * builds. A main, not a test, so that timing never makes the build flaky:
 * {@code java --enable-native-access=ALL-UNNAMED -cp target/classes:target/test-classes
 * dev.eventloopguardian.report.ReportPathThroughput [seconds] [user frames]}.
 *
 * <p>Events are this process's own: user stacks of real libc addresses (named as a storm's are,
 * from the process's maps), kernel stacks of real kernel functions from kallsyms.
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
        ReportRehearsal rehearsal = new ReportRehearsal(KernelSymbols.kallsyms(), kernel, ReportRehearsal.libcFrames(userFrames),
                "json", Duration.ZERO);
        long warmUpEnd = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < warmUpEnd) {
            rehearsal.run(BATCH);
        }
        long events = 0;
        long cpuStart = THREADS.getCurrentThreadCpuTime();
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            rehearsal.run(BATCH);
            events += BATCH;
        }
        long cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
        System.out.printf("%d user frames, %d kernel frames: %,d events, %.0f ns CPU per event (%,.0f events per CPU second)%n",
                userFrames, kernel.length, events, (double) cpu / events, events * 1e9 / cpu);
        System.out.printf("load %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
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
