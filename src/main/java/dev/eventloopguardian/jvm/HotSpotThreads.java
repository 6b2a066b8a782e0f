package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.JavaThreadWaits;
import dev.eventloopguardian.guard.JavaWaitStates;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What a guard needs of HotSpot to classify a JVM thread's futex sleeps: how the JVM numbers its
 * wait states, and, for each thread, where its waits show ({@link JavaThreadWaits}).
 *
 * <p>A park waits on the futex words of the thread's {@code Parker}, which lives inside its
 * {@code JavaThread}; a sleep on those of its sleep event, a {@code ParkEvent} that
 * {@code JavaThread::_SleepEvent} points to. HotSpot's layout tables do not export that field, so
 * its offset is found once per JVM: a thread of ours sleeps, the kernel shows the futex word it
 * waits on ({@code /proc/self/task/TID/syscall}), and the one pointer in its {@code JavaThread}
 * to the {@code ParkEvent} around that word is the field. {@code Object.wait} and a contended
 * monitor park on another {@code ParkEvent} of the thread's own, its {@code _ParkEvent}, found
 * the same way with a thread of ours in {@code Object.wait}. ParkEvents are 256-byte aligned, and
 * their futex words (a mutex, then a condition variable) lie in their first 128 bytes.
 */
final class HotSpotThreads {
    private static final int PARK_EVENT_ALIGNMENT = 256;
    private static final int PARK_EVENT_WORDS = 128;
    private static final int CALIBRATION_SAMPLES = 3;
    private static final long CALIBRATION_SECONDS = 5;

    private final HotSpotLayout layout;
    private final long sleepEventOffset;
    private final long parkEventOffset;

    private HotSpotThreads(HotSpotLayout layout, long sleepEventOffset, long parkEventOffset) {
        this.layout = layout;
        this.sleepEventOffset = sleepEventOffset;
        this.parkEventOffset = parkEventOffset;
    }

    /** One wait of a calibrating thread, done again and again until it is interrupted. */
    private interface Wait {
        void once() throws InterruptedException;
    }

    static HotSpotThreads ofThisJvm() {
        HotSpotLayout layout;
        try {
            layout = HotSpotLayout.ofThisJvm();
        } catch (HotSpotLayoutException e) {
            throw new GuardianException("cannot read this JVM's thread layout, so Java-level waits cannot be told from "
                    + "the VM's own: " + e.getMessage(), e);
        }
        Object monitor = new Object();
        return new HotSpotThreads(layout, findEventOffset(layout, "sleep event", () -> Thread.sleep(20)),
                findEventOffset(layout, "park event", () -> {
                    synchronized (monitor) {
                        monitor.wait(20);
                    }
                }));
    }

    JavaWaitStates javaWaitStates() {
        return javaWaitStates(layout);
    }

    /** How the JVM {@code layout} describes numbers the wait states the guard program tells apart. */
    static JavaWaitStates javaWaitStates(HotSpotLayout layout) {
        return new JavaWaitStates(layout.stateValue(OsThreadState.MONITOR_WAIT), layout.stateValue(OsThreadState.CONDVAR_WAIT),
                layout.stateValue(OsThreadState.OBJECT_WAIT));
    }

    /** Where thread {@code tid}'s waits show; it must be a live Java thread of this JVM. */
    JavaThreadWaits waitsOf(int tid) {
        HotSpotLayout.JavaThreadAt thread = layout.javaThreads().get(tid);
        if (thread == null) {
            throw new GuardianException("tid " + tid + " is not a Java thread of this JVM (or it has ended)", null);
        }
        long sleepEvent = NativeMemory.readLong(thread.javaThread() + sleepEventOffset);
        long parkEvent = NativeMemory.readLong(thread.javaThread() + parkEventOffset);
        return new JavaThreadWaits(thread.stateAddress(), thread.javaThread(), thread.javaThread() + layout.javaThreadSize(),
                sleepEvent, sleepEvent + PARK_EVENT_WORDS, parkEvent, parkEvent + PARK_EVENT_WORDS);
    }

    /**
     * The offset in a {@code JavaThread} of the pointer to the {@code ParkEvent} that
     * {@code wait} waits on ({@code _SleepEvent} for a sleep, {@code _ParkEvent} for
     * {@code Object.wait} and a contended monitor): the one every sample agrees on.
     */
    private static long findEventOffset(HotSpotLayout layout, String event, Wait wait) {
        CompletableFuture<Integer> tid = new CompletableFuture<>();
        Thread sleeper = Thread.ofPlatform().daemon().name("eventloop-guardian-calibration").start(() -> {
            tid.complete(Linux.tid());
            try {
                while (true) {
                    wait.once();
                }
            } catch (InterruptedException e) {
                // done
            }
        });
        try {
            int sleeperTid = tid.get(CALIBRATION_SECONDS, TimeUnit.SECONDS);
            int futex = SyscallTable.of(Arch.current()).number("futex").orElseThrow();
            Set<Long> agreed = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CALIBRATION_SECONDS);
            for (int samples = 0; samples < CALIBRATION_SAMPLES; ) {
                if (System.nanoTime() > deadline) {
                    throw new GuardianException("cannot find where this JVM keeps a thread's " + event + ": a waiting "
                            + "thread's futex word was not seen within " + CALIBRATION_SECONDS + " s", null);
                }
                long word = futexWordOf(sleeperTid, futex);
                HotSpotLayout.JavaThreadAt thread = layout.javaThreads().get(sleeperTid);
                if (word == 0 || thread == null) {
                    Thread.sleep(3);
                    continue;
                }
                Set<Long> offsets = pointersAround(thread.javaThread(), layout.javaThreadSize(), word);
                if (offsets.isEmpty()) {
                    continue; // a wait of the VM's (a safepoint), not the one calibrated
                }
                agreed = agreed == null ? offsets : intersection(agreed, offsets);
                samples++;
            }
            if (agreed.size() != 1) {
                throw new GuardianException("cannot find where this JVM keeps a thread's " + event + ": " + agreed.size()
                        + " places in a JavaThread point to it", null);
            }
            return agreed.iterator().next();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuardianException("interrupted while reading this JVM's thread layout", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new GuardianException("a thread of ours did not start within " + CALIBRATION_SECONDS + " s", e);
        } finally {
            sleeper.interrupt();
        }
    }

    /** The futex word {@code tid} sleeps on now, or 0 when it is not in a futex wait at this moment. */
    private static long futexWordOf(int tid, int futex) {
        try {
            String[] fields = Files.readString(Path.of("/proc/self/task", Integer.toString(tid), "syscall")).strip().split(" ");
            if (fields.length < 2 || !fields[0].equals(Integer.toString(futex))) {
                return 0;
            }
            return Long.parseUnsignedLong(fields[1].substring(2), 16);
        } catch (IOException | RuntimeException e) {
            return 0; // running, or between two reads of the file: the next sample will do
        }
    }

    /** Offsets in the {@code JavaThread} at {@code javaThread} that hold a ParkEvent around {@code word}. */
    private static Set<Long> pointersAround(long javaThread, long size, long word) {
        Set<Long> offsets = new HashSet<>();
        for (long offset = 0; offset + Long.BYTES <= size; offset += Long.BYTES) {
            long value = NativeMemory.readLong(javaThread + offset);
            if (value % PARK_EVENT_ALIGNMENT == 0 && Long.compareUnsigned(value, word) <= 0
                    && Long.compareUnsigned(word, value + PARK_EVENT_WORDS) < 0) {
                offsets.add(offset);
            }
        }
        return offsets;
    }

    private static Set<Long> intersection(Set<Long> a, Set<Long> b) {
        Set<Long> both = new HashSet<>(a);
        both.retainAll(b);
        return both;
    }
}
