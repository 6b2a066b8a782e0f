package dev.eventloopguardian.jvm;

import dev.eventloopguardian.testing.HeldObjects;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The library in this JVM: a guarded thread's Java-level blocking and blocking system calls come
 * back as {@link BlockingCall}s with the thread's Java stack, and closing leaves nothing behind.
 */
@KernelTest
class EventLoopGuardianTest {
    private final List<BlockingCall> calls = new CopyOnWriteArrayList<>();

    /** Runs {@code work} on a platform thread guarded from before it starts until it ends. */
    private void runGuarded(EventLoopGuardian.Builder builder, Runnable work) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        Thread loop = Thread.ofPlatform().name("test-event-loop").unstarted(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            work.run();
        });
        loop.start();
        try (EventLoopGuardian guardian = builder.thread(loop).onBlockingCall(calls::add).install()) {
            go.countDown();
            loop.join();
            Thread.sleep(BlockingCallReader.HOLD.toMillis() + 200); // the last call waits for its end
        }
    }

    @Test
    void javaLevelWaitsAreReportedWithTheFrameThatBlocked() throws Exception {
        Object monitor = new Object();
        runGuarded(EventLoopGuardian.builder(), () -> {
            sleepOnTheLoop();
            parkBrieflyOnTheLoop();
            waitOnTheLoop(monitor);
            enterAContendedMonitorOnTheLoop();
        });
        assertThat(calls).as("%s", calls).anySatisfy(call -> {
            assertThat(call.kind()).isEqualTo(BlockingCall.Kind.SLEEP);
            assertThat(call.syscall()).isEqualTo("futex");
            assertThat(call.threadName()).isEqualTo("test-event-loop");
            assertThat(call.javaStack()).anyMatch(frame -> frame.getMethodName().equals("sleepOnTheLoop"));
        });
        assertThat(calls.stream().filter(call -> call.kind() == BlockingCall.Kind.PARK))
                .as("50 us parks: their stacks may be taken after they ended, but each is caught: %s", calls)
                .hasSizeGreaterThanOrEqualTo(38);
        assertThat(calls).anySatisfy(call -> {
            assertThat(call.kind()).isEqualTo(BlockingCall.Kind.WAIT);
            assertThat(call.javaStack()).anyMatch(frame -> frame.getMethodName().equals("waitOnTheLoop"));
        });
        assertThat(calls).anySatisfy(call -> {
            assertThat(call.kind()).isEqualTo(BlockingCall.Kind.MONITOR);
            assertThat(call.javaStack()).anyMatch(frame -> frame.getMethodName().equals("enterAContendedMonitorOnTheLoop"));
        });
    }

    @Test
    void aBlockingSystemCallIsReportedWithItsJavaStack() throws Exception {
        runGuarded(EventLoopGuardian.builder(), EventLoopGuardianTest::readAFifoNobodyWritesYet);
        assertThat(calls).as("%s", calls).anySatisfy(call -> {
            assertThat(call.kind()).isEqualTo(BlockingCall.Kind.SYSCALL);
            assertThat(call.syscall()).isEqualTo("openat");
        });
    }

    /**
     * A virtual thread pinned to its carrier by a native sleep: the carriers are guarded, and the
     * call comes back with the virtual thread's stack, not the carrier's. The carriers' own waits
     * for work, between virtual threads, are not reported.
     */
    @Test
    void aVirtualThreadsNativeCallIsReportedWithTheVirtualThreadsStack() throws Exception {
        startEveryCarrier();
        Thread virtual;
        try (EventLoopGuardian guardian = EventLoopGuardian.builder().virtualThreadCarriers().onBlockingCall(calls::add)
                .install()) {
            virtual = Thread.ofVirtual().name("test-virtual-loop").start(() -> sleepNativelyOnAVirtualThread(150_000));
            virtual.join();
            Thread.sleep(BlockingCallReader.HOLD.toMillis() + 200);
        }
        assertThat(calls).as("%s", calls).anySatisfy(call -> {
            assertThat(call.kind()).isEqualTo(BlockingCall.Kind.SYSCALL);
            assertThat(call.syscall()).isIn("clock_nanosleep", "nanosleep");
            assertThat(call.virtualThread()).isTrue();
            assertThat(call.javaThreadId()).isEqualTo(virtual.threadId());
            assertThat(call.threadName()).startsWith("virtual thread #" + virtual.threadId() + " on ForkJoinPool-");
            assertThat(call.javaStack().getFirst().getMethodName()).isEqualTo("sleepNativelyOnAVirtualThread");
            assertThat(call.blockedNanos().orElse(0)).isGreaterThan(100_000_000L);
        });
        assertThat(calls).as("the carriers' waits for work: %s", calls)
                .noneMatch(call -> !call.virtualThread() && call.kind() != BlockingCall.Kind.SYSCALL);
    }

    /**
     * Virtual threads that sleep the JDK's way leave their carrier, which then waits for work: no
     * blocking call of anyone's.
     */
    @Test
    void virtualThreadsThatSleepAndTheirIdleCarriersAreNotReported() throws Exception {
        startEveryCarrier();
        try (EventLoopGuardian guardian = EventLoopGuardian.builder().virtualThreadCarriers().onBlockingCall(calls::add)
                .install()) {
            List<Thread> sleepers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                sleepers.add(Thread.ofVirtual().start(EventLoopGuardianTest::sleepOnTheLoop));
            }
            for (Thread sleeper : sleepers) {
                sleeper.join();
            }
            Thread.sleep(BlockingCallReader.HOLD.toMillis() + 200);
        }
        assertThat(calls).as("%s", calls).isEmpty();
    }

    /**
     * Makes the default scheduler start all its carriers before the guard is installed (the guard
     * also picks up later ones, but only at its next look): as many virtual threads as it has
     * carriers, each pinned at once, need a carrier each.
     */
    private static void startEveryCarrier() throws InterruptedException {
        List<Thread> pinned = new ArrayList<>();
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
            pinned.add(Thread.ofVirtual().start(() -> sleepNativelyOnAVirtualThread(50_000)));
        }
        for (Thread thread : pinned) {
            thread.join();
        }
    }

    private static final MethodHandle USLEEP = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("usleep").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    /** A native call pins a virtual thread: its carrier's kernel thread sleeps in clock_nanosleep. */
    private static void sleepNativelyOnAVirtualThread(int micros) {
        try {
            int unused = (int) USLEEP.invokeExact(micros);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The VM's own waits: safepoints, and GCs the thread asks for itself (HotSpot's monitor waits). */
    @Test
    void garbageCollectionsAndSafepointsAreNeverReported() throws Exception {
        runGuarded(EventLoopGuardian.builder(), () -> {
            long sum = 0;
            for (int round = 0; round < 10; round++) {
                for (int i = 0; i < 200_000; i++) {
                    sum += new byte[256].length;
                }
                System.gc();
            }
            assertThat(sum).isPositive();
        });
        assertThat(calls).as("%s", calls).isEmpty();
    }

    @Test
    void threadsThatMatchAreGuardedAsTheyAppear() throws Exception {
        try (EventLoopGuardian guardian = EventLoopGuardian.builder().threadsNamed("late-loop-\\d+")
                .onBlockingCall(calls::add).install()) {
            Thread late = Thread.ofPlatform().name("late-loop-1").start(() -> {
                for (int i = 0; i < 40; i++) {
                    sleepOnTheLoop(); // 100 ms each: the look for new threads comes once a second
                }
            });
            Thread other = Thread.ofPlatform().name("worker-1").start(() -> {
                for (int i = 0; i < 30; i++) {
                    sleepOnTheLoop();
                }
            });
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (calls.stream().noneMatch(call -> call.threadName().equals("late-loop-1")) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            late.interrupt();
            other.interrupt();
            late.join();
            other.join();
        }
        assertThat(calls).as("%s", calls).anyMatch(call -> call.threadName().equals("late-loop-1"))
                .allMatch(call -> call.threadName().equals("late-loop-1"));
    }

    @Test
    void callsInsideAnAllowedMethodAreNotReported() throws Exception {
        runGuarded(EventLoopGuardian.builder().allowBlockingCallsInside(EventLoopGuardianTest.class.getName(),
                "sleepOnTheLoop"), EventLoopGuardianTest::sleepOnTheLoop);
        assertThat(calls).as("%s", calls).isEmpty();
    }

    @Test
    void closeLeavesNoDescriptorThreadOrProgramBehind() throws Exception {
        runGuarded(EventLoopGuardian.builder(), EventLoopGuardianTest::sleepOnTheLoop); // warms up what stays loaded
        long descriptors = openDescriptors();
        HeldObjects before = HeldObjects.of(ProcessHandle.current().pid());
        HeldObjects[] during = new HeldObjects[1];
        runGuarded(EventLoopGuardian.builder(), () -> {
            during[0] = HeldObjects.of(ProcessHandle.current().pid());
            sleepOnTheLoop();
        });
        assertThat(openDescriptors()).isEqualTo(descriptors);
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(thread -> thread.getName().startsWith("eventloop-guardian"));
        java.util.Set<Integer> programs = new java.util.TreeSet<>(during[0].programIds());
        programs.removeAll(before.programIds());
        java.util.Set<Integer> maps = new java.util.TreeSet<>(during[0].mapIds());
        maps.removeAll(before.mapIds());
        assertThat(programs).as("the guard's program while installed").isNotEmpty();
        assertThat(new HeldObjects(programs, maps, 0).stillInTheKernel()).as("what the guardian held, after close").isEmpty();
    }

    private static void sleepOnTheLoop() {
        try {
            Thread.sleep(50);
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void parkBrieflyOnTheLoop() {
        for (int i = 0; i < 40; i++) {
            LockSupport.parkNanos(50_000);
        }
    }

    private static void waitOnTheLoop(Object monitor) {
        synchronized (monitor) {
            try {
                monitor.wait(50);
                monitor.wait(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Another thread holds the monitor for 100 ms while the loop wants it. */
    private static void enterAContendedMonitorOnTheLoop() {
        Object lock = new Object();
        CountDownLatch held = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            synchronized (lock) {
                held.countDown();
                LockSupport.parkNanos(100_000_000L);
            }
        });
        try {
            held.await();
            synchronized (lock) {
                lock.notifyAll();
            }
            holder.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Opening a FIFO for reading sleeps in openat until a writer comes: one comes after 50 ms. */
    private static void readAFifoNobodyWritesYet() {
        try {
            Path fifo = Files.createTempDirectory("elg-fifo").resolve("fifo");
            new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(50);
                    Files.writeString(fifo, "x");
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Files.readString(fifo);
            writer.join();
            Files.delete(fifo);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
