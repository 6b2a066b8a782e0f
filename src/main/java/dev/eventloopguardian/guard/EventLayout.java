package dev.eventloopguardian.guard;

/**
 * The record the guard program writes into the ring buffer for each counted sleep, in the
 * kernel's byte order. The generator writes these offsets and {@link BlockingEvent} reads them:
 * both take them from here.
 *
 * <pre>
 *   0 u64 time        bpf_ktime_get_ns(): CLOCK_MONOTONIC at the switch-out
 *   8 u32 tid         } bpf_get_current_pid_tgid(): tid in the low half,
 *  12 u32 pid         }   the process id (tgid) in the high half
 *  16 char comm[16]   the thread's name
 *  32 s64 syscall     the syscall number
 *  40 u64 args[6]     the syscall's arguments
 *  88 u32 state       task->__state
 *  92 s32 kernel_stack_bytes, 96 s32 user_stack_bytes: bpf_get_stack()'s results (negative: errno)
 * 100 s32 java_wait   a counted Java-level wait: its JavaWait code (1 and up); -1 for any other sleep
 * 104 u64 switches    task->sched_info.pcount (0 where the kernel lacks it)
 * 112 u64 exec_id     task->self_exec_id: how many times the process has exec'd, to name its addresses with the right image
 * 120 u64 frames[]    the kernel stack's frames (kernel_stack_bytes of them, none when negative),
 *                     then the user stack's (user_stack_bytes): the record ends with the last one
 * </pre>
 *
 * <p>A record is as long as its stacks: a typical one (a dozen kernel frames, a few user frames)
 * takes a third of the {@link #MAX_SIZE} bytes that room for the deepest stacks would, so the
 * same ring buffer holds three times the events. The program builds it in a per-CPU scratch
 * value of {@link #MAX_SIZE} bytes, since the ring buffer reserves only a constant size, then
 * copies its used length into the ring buffer.
 *
 * <p>When a reported thread is next switched out, after it woke and ran, the program writes a
 * shorter record that ends the sleep: the ring buffer's record length tells the two apart.
 *
 * <pre>
 *   0 u64 time        the sleep's start: the time of its event
 *   8 u32 tid, 12 u32 pid
 *  16 u64 off_cpu     nanoseconds off the CPU from the sleep's start until the thread ran again
 * </pre>
 *
 * <p>In between, the sleep waits in the thread's task storage as {@code {u64 time; u64 runtime}},
 * the thread's {@code se.sum_exec_runtime} when it went to sleep.
 */
final class EventLayout {
    static final int TIME = 0;
    static final int PID_TGID = 8;
    static final int TID = 8;
    static final int PID = 12;
    static final int COMM = 16;
    static final int COMM_BYTES = 16;
    static final int SYSCALL = 32;
    static final int ARGS = 40;
    static final int STATE = 88;
    static final int KERNEL_STACK_BYTES = 92;
    static final int USER_STACK_BYTES = 96;
    static final int JAVA_WAIT = 100;
    static final int SWITCHES = 104;
    static final int EXEC_ID = 112;
    /** Where the frames start: the record's fixed part. */
    static final int FRAMES = 120;
    static final int KERNEL_FRAMES = 32;
    static final int USER_FRAMES = 64;
    static final int MAX_KERNEL_STACK_BYTES = 8 * KERNEL_FRAMES;
    static final int MAX_USER_STACK_BYTES = 8 * USER_FRAMES;
    /** The longest record: both stacks at their deepest. */
    static final int MAX_SIZE = FRAMES + MAX_KERNEL_STACK_BYTES + MAX_USER_STACK_BYTES;

    static final int END_TIME = 0;
    static final int END_PID_TGID = 8;
    static final int END_TID = 8;
    static final int END_PID = 12;
    static final int END_OFF_CPU = 16;
    static final int END_SIZE = 24;

    /** The drop counters, an array map: events the ring buffer had no room for, and sleep ends. */
    static final int DROPPED_EVENTS = 0;
    static final int DROPPED_ENDS = 1;
    static final int DROP_COUNTERS = 2;

    static final int ASLEEP_TIME = 0;
    static final int ASLEEP_RUNTIME = 8;
    static final int ASLEEP_VALUE_BYTES = 16;

    private EventLayout() {
    }
}
