package dev.eventloopguardian.guard;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static dev.eventloopguardian.guard.EventLayout.*;

/**
 * The end of a reported sleep, written when the thread is next switched out: by then it has woken
 * and run. {@code sleepStartNanos} is its {@link BlockingEvent#monotonicNanos()}, and
 * {@code offCpuNanos} the time from that switch-out until the thread ran again, waiting for a
 * CPU included.
 */
public record SleepEnd(long sleepStartNanos, int pid, int tid, long offCpuNanos) {
    /** Whether a ring-buffer record of {@code length} bytes is a sleep's end rather than a {@link BlockingEvent}. */
    static boolean isEnd(int length) {
        return length == END_SIZE;
    }

    static SleepEnd decode(ByteBuffer record) {
        ByteBuffer in = record.slice().order(ByteOrder.nativeOrder());
        return new SleepEnd(in.getLong(END_TIME), in.getInt(END_PID), in.getInt(END_TID), in.getLong(END_OFF_CPU));
    }
}
