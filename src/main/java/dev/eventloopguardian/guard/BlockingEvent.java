package dev.eventloopguardian.guard;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static dev.eventloopguardian.guard.EventLayout.*;

/**
 * A guarded thread going to sleep in a syscall the policy does not allow, as the guard program
 * saw it at the switch-out. Stacks are raw instruction addresses, innermost first; naming them
 * is the report's business.
 */
public record BlockingEvent(long monotonicNanos, int pid, int tid, String thread, long syscall, long[] arguments,
                            int state, long[] kernelStack, long[] userStack, long switches, long execId,
                            int javaWaitCode) {
    /**
     * Event times are CLOCK_MONOTONIC (bpf_ktime_get_ns), as is System.nanoTime: one offset,
     * taken once, gives wall time.
     */
    private static final long WALL_MINUS_MONOTONIC = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
    /** {@code TASK_UNINTERRUPTIBLE}: a D sleep, as opposed to an interruptible S sleep. */
    private static final int UNINTERRUPTIBLE = 0x2;

    /** Reads one ring-buffer record; {@code record} is positioned at its start. */
    public static BlockingEvent decode(ByteBuffer record) {
        if (record.remaining() < FRAMES) {
            throw new IllegalArgumentException("a blocking event is at least " + FRAMES + " bytes, got " + record.remaining());
        }
        ByteBuffer in = record.slice().order(ByteOrder.nativeOrder());
        int kernelBytes = stackBytes(in.getInt(KERNEL_STACK_BYTES), MAX_KERNEL_STACK_BYTES);
        int userBytes = stackBytes(in.getInt(USER_STACK_BYTES), MAX_USER_STACK_BYTES);
        if (in.remaining() < FRAMES + kernelBytes + userBytes) {
            throw new IllegalArgumentException("a blocking event with " + kernelBytes + " bytes of kernel stack and "
                    + userBytes + " of user stack is " + (FRAMES + kernelBytes + userBytes) + " bytes, got " + in.remaining());
        }
        byte[] comm = new byte[COMM_BYTES];
        in.get(COMM, comm);
        int nameLength = 0;
        while (nameLength < comm.length && comm[nameLength] != 0) {
            nameLength++;
        }
        long[] arguments = new long[KernelLayout.SYSCALL_ARGUMENTS];
        for (int i = 0; i < arguments.length; i++) {
            arguments[i] = in.getLong(ARGS + 8 * i);
        }
        return new BlockingEvent(in.getLong(TIME), in.getInt(PID), in.getInt(TID),
                new String(comm, 0, nameLength, StandardCharsets.UTF_8), in.getLong(SYSCALL), arguments,
                in.getInt(STATE), frames(in, FRAMES, kernelBytes), frames(in, FRAMES + kernelBytes, userBytes),
                in.getLong(SWITCHES), in.getLong(EXEC_ID), in.getInt(JAVA_WAIT));
    }

    /**
     * The bytes of frames bpf_get_stack wrote, as the program counted them: it returns the
     * bytes written, or a negative errno (no frames), and the program caps it at the room it gave.
     */
    private static int stackBytes(int result, int room) {
        return Math.clamp(result, 0, room) & ~7;
    }

    private static long[] frames(ByteBuffer in, int offset, int bytes) {
        long[] frames = new long[bytes / 8];
        for (int i = 0; i < frames.length; i++) {
            frames[i] = in.getLong(offset + 8 * i);
        }
        return frames;
    }

    /**
     * How many times the thread had been given a CPU when it went to sleep; once the kernel's
     * count for the thread is higher, it has woken and run. 0 where the kernel does not count.
     */
    public long switches() {
        return switches;
    }

    /**
     * How many times the process had exec'd when the thread went to sleep: with the pid, it names
     * the program image whose addresses the user stack holds. 0 where the kernel does not count.
     */
    public long execId() {
        return execId;
    }

    /** What Java-level wait a counted futex sleep was; empty for any other sleep. */
    public java.util.Optional<JavaWait> javaWait() {
        return JavaWait.ofCode(javaWaitCode);
    }

    /** When the thread went to sleep, by the wall clock. */
    public java.time.Instant wallTime() {
        return java.time.Instant.ofEpochSecond(0, wallEpochNanos());
    }

    /** {@link #wallTime()} in nanoseconds since the epoch, for writers that format it without an Instant. */
    public long wallEpochNanos() {
        return monotonicNanos + WALL_MINUS_MONOTONIC;
    }

    /** {@code D} for an uninterruptible sleep, {@code S} for an interruptible one. */
    public char stateLetter() {
        return (state & UNINTERRUPTIBLE) != 0 ? 'D' : 'S';
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BlockingEvent that && monotonicNanos == that.monotonicNanos && pid == that.pid
                && tid == that.tid && thread.equals(that.thread) && syscall == that.syscall
                && Arrays.equals(arguments, that.arguments) && state == that.state
                && Arrays.equals(kernelStack, that.kernelStack) && Arrays.equals(userStack, that.userStack)
                && switches == that.switches && execId == that.execId && javaWaitCode == that.javaWaitCode;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(monotonicNanos) * 31 + tid;
    }

    @Override
    public String toString() {
        return "BlockingEvent[tid " + tid + " (" + thread + ") of pid " + pid + ", syscall " + syscall + ", state "
                + stateLetter() + ", " + kernelStack.length + " kernel and " + userStack.length + " user frames]";
    }
}
