package dev.eventloopguardian.guard;

/**
 * A watched process's entry, in the task storage of its group leader, in the kernel's byte
 * order: which rules may apply to its threads (bit i: rule i), and its budget of events, a fixed
 * one-second window and the sleeps counted past it.
 *
 * <pre>
 *  0 u64 rules           bit i set: rule i may apply
 *  8 u64 window_start    bpf_ktime_get_ns() when its current window began
 * 16 u64 window_events   events written in that window
 * 24 u64 suppressed      sleeps counted but not written, the budget being spent
 * </pre>
 */
final class HostProcess {
    static final int RULES = 0;
    static final int WINDOW_START = 8;
    static final int WINDOW_EVENTS = 16;
    static final int SUPPRESSED = 24;
    static final int BYTES = 32;
    /** Rules a host program tells apart: a bit each, tested with an immediate the jump sign-extends past bit 30. */
    static final int MAX_RULES = 31;

    private HostProcess() {
    }
}
