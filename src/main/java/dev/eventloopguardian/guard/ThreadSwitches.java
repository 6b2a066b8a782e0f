package dev.eventloopguardian.guard;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The kernel's count of the times a thread was given a CPU ({@code /proc/PID/task/TID/schedstat},
 * third field: {@code task->sched_info.pcount}, which the guard program records at each switch-out
 * as {@link BlockingEvent#switches()}). While the count is the one an event recorded, the thread
 * has not run since it went to sleep: it is still in that sleep.
 */
public final class ThreadSwitches {
    private ThreadSwitches() {
    }

    /** The count now; empty when the thread has exited (or the kernel does not keep schedstat). */
    public static OptionalLong of(int pid, int tid) {
        Path schedstat = Path.of("/proc", Integer.toString(pid), "task", Integer.toString(tid), "schedstat");
        try {
            String[] fields = Files.readString(schedstat).trim().split(" ");
            return OptionalLong.of(Long.parseLong(fields[2]));
        } catch (IOException | RuntimeException gone) {
            return OptionalLong.empty();
        }
    }

    /** Whether the event's thread has not run since it went to sleep: false when it ran, exited, or the kernel does not count. */
    public static boolean stillInTheSleepOf(BlockingEvent event) {
        OptionalLong now = of(event.pid(), event.tid());
        return event.switches() != 0 && now.isPresent() && now.getAsLong() == event.switches();
    }
}
