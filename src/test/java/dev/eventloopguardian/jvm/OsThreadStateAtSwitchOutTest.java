package dev.eventloopguardian.jvm;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.guard.KernelLayout;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The proof, in the kernel, of the plan "classify a JVM thread's futex sleep by its
 * {@code OSThread::_state}": a thread of this JVM is watched at every switch-out by
 * {@link StateCountingProgram}, and does, phase by phase, Java-level waits and waits that are
 * the VM's own. Each phase's counts are the difference of two snapshots the thread takes
 * itself, between phases, so nothing else lands in them.
 */
@KernelTest
class OsThreadStateAtSwitchOutTest {
    private static final int N = 40;
    private static final int PARKS = 200;
    private static final int GCS = 20;

    private final Object waitLock = new Object();
    private final Object contendedLock = new Object();
    private volatile int held;
    private volatile int entered;
    private volatile boolean othersGcDone;
    private volatile boolean spinning;

    private interface Phase {
        void run(int times) throws Exception;
    }

    private interface Work {
        void run() throws Exception;
    }

    @Test
    void futexSleepsAreCountedUnderTheStateTheirWaitSet() throws Exception {
        HotSpotLayout hotspot = HotSpotLayout.ofThisJvm();
        KernelLayout kernel = KernelLayout.of(Btf.vmlinux(), Arch.current());
        int futex = SyscallTable.of(Arch.current()).number("futex").orElseThrow();
        Map<String, long[]> perPhase = new LinkedHashMap<>();
        try (StateCountingProgram program = new StateCountingProgram(kernel, futex)) {
            runWatched(program, hotspot, () -> {
                phase(program, perPhase, "Thread.sleep(5)", N, times -> {
                    for (int i = 0; i < times; i++) {
                        Thread.sleep(5);
                    }
                });
                phase(program, perPhase, "parkNanos(50 us)", PARKS, times -> {
                    for (int i = 0; i < times; i++) {
                        LockSupport.parkNanos(50_000);
                    }
                });
                phase(program, perPhase, "Object.wait(5)", N, times -> {
                    for (int i = 0; i < times; i++) {
                        synchronized (waitLock) {
                            waitLock.wait(5);
                        }
                    }
                });
                phase(program, perPhase, "contended synchronized", N, this::enterHeldMonitor);
                phase(program, perPhase, "spin through others' GCs", GCS, this::spinThroughOthersGcs);
                phase(program, perPhase, "own System.gc()", GCS, times -> {
                    for (int i = 0; i < times; i++) {
                        System.gc();
                    }
                });
                phase(program, perPhase, "allocation churn", 1, this::churn);
            });
        }
        print(hotspot, perPhase);

        int condvar = hotspot.stateValue(OsThreadState.CONDVAR_WAIT);
        int object = hotspot.stateValue(OsThreadState.OBJECT_WAIT);
        int monitor = hotspot.stateValue(OsThreadState.MONITOR_WAIT);
        int runnable = hotspot.stateValue(OsThreadState.RUNNABLE);
        for (long[] counts : perPhase.values()) {
            assertThat(counts[StateCountingProgram.NO_ADDRESS] + counts[StateCountingProgram.UNREADABLE]
                    + counts[StateCountingProgram.OUT_OF_RANGE]).as("sleeps whose state could not be read").isZero();
        }
        // Every Java-level wait is counted under its Java-wait state, 50 us parks included.
        assertThat(perPhase.get("Thread.sleep(5)")[condvar]).isGreaterThanOrEqualTo(N);
        // A 50 us park sleeps unless its deadline has passed by the time it reaches futex (the
        // thread preempted in between, on a busy machine): then there is no sleep to classify.
        assertThat(perPhase.get("parkNanos(50 us)")[condvar]).isGreaterThanOrEqualTo(PARKS - PARKS / 20);
        // And none lands under another Java-wait state (RUNNABLE: the VM's own waits meanwhile).
        for (String phase : List.of("Thread.sleep(5)", "parkNanos(50 us)")) {
            assertThat(javaWaits(hotspot, perPhase.get(phase)) - perPhase.get(phase)[condvar]).as(phase).isZero();
        }
        assertThat(javaWaits(hotspot, perPhase.get("Object.wait(5)")) - perPhase.get("Object.wait(5)")[object]).isZero();
        assertThat(javaWaits(hotspot, perPhase.get("contended synchronized")) - perPhase.get("contended synchronized")[monitor])
                .isZero();
        assertThat(perPhase.get("Object.wait(5)")[object]).isGreaterThanOrEqualTo(N);
        assertThat(perPhase.get("contended synchronized")[monitor]).isGreaterThanOrEqualTo(N);
        // Blocked at safepoints for GCs other threads asked for: RUNNABLE, never a Java-wait state.
        long[] safepoints = perPhase.get("spin through others' GCs");
        assertThat(safepoints[runnable]).isPositive();
        assertThat(javaWaits(hotspot, safepoints)).isZero();
        // Where the plan fails: a thread that asks for a GC itself waits for the VM thread in
        // Monitor::wait (VMOperation_lock), which sets CONDVAR_WAIT, as a park does.
        assertThat(perPhase.get("own System.gc()")[condvar]).isGreaterThanOrEqualTo(GCS);
    }

    /** The thread, with the program attached to it alone, runs {@code phases}. */
    private static void runWatched(StateCountingProgram program, HotSpotLayout hotspot, Work phases) throws Exception {
        CountDownLatch attached = new CountDownLatch(1);
        CompletableFuture<Integer> tid = new CompletableFuture<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().name("elg-classified").start(() -> {
            tid.complete(Linux.tid());
            try {
                attached.await();
                phases.run();
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        try (PerfEvent event = PerfEvent.contextSwitches(tid.get(), PerfEvent.Options.live(false))) {
            Map<Integer, Long> addresses = hotspot.osThreadStateAddresses();
            assertThat(addresses).containsKey(tid.get());
            program.putAddresses(addresses);
            event.attach(program.fd());
            event.enable();
            attached.countDown();
            done.get(120, TimeUnit.SECONDS);
        } finally {
            attached.countDown();
            thread.join();
        }
    }

    /** Runs {@code phase} once to warm it up (class loading, compilation), then {@code times} times, counted. */
    private static void phase(StateCountingProgram program, Map<String, long[]> perPhase, String name, int times,
                              Phase phase) throws Exception {
        phase.run(1);
        long[] before = program.counts();
        phase.run(times);
        long[] after = program.counts();
        long[] counts = new long[after.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = after[i] - before[i];
        }
        perPhase.put(name, counts);
    }

    /**
     * Each round another thread holds the monitor; this one spins (no futex) until it is held,
     * then enters it, so that it must park.
     */
    private void enterHeldMonitor(int times) throws InterruptedException {
        int first = entered + 1;
        Thread entering = Thread.currentThread();
        Thread holder = Thread.ofPlatform().name("elg-holder").start(() -> {
            for (int round = first; round < first + times; round++) {
                synchronized (contendedLock) {
                    held = round;
                    // Held until the entering thread is BLOCKED, then 2 ms more, past HotSpot's
                    // adaptive spinning: on a busy machine it may arrive late, and enter freely.
                    while (entering.getState() != Thread.State.BLOCKED) {
                        Thread.onSpinWait();
                    }
                    sleepQuietly(2);
                }
                while (entered != round) {
                    sleepQuietly(1);
                }
            }
        });
        for (int round = first; round < first + times; round++) {
            while (held != round) {
                Thread.onSpinWait();
            }
            synchronized (contendedLock) {
                entered = round;
            }
        }
        while (holder.isAlive()) {
            Thread.onSpinWait(); // not join(): that is an Object.wait, counted under another state
        }
    }

    /** Spins, never waiting of its own, while another thread asks for {@code times} GCs. */
    private void spinThroughOthersGcs(int times) {
        othersGcDone = false;
        spinning = false;
        Thread collector = Thread.ofPlatform().name("elg-collector").start(() -> {
            while (!spinning) {
                Thread.onSpinWait();
            }
            for (int i = 0; i < times; i++) {
                System.gc();
            }
            othersGcDone = true;
        });
        spinning = true;
        while (!othersGcDone) {
            Thread.onSpinWait(); // a loop with a safepoint poll: each GC stops the thread here
        }
        // Not join(): the collector may not have ended yet, and join() waits in Object.wait,
        // which this counted phase would see as a Java-level wait.
        while (collector.isAlive()) {
            Thread.onSpinWait();
        }
    }

    /** Allocates about 2 GB in 64 KB arrays, keeping a few: GCs this thread's allocations ask for. */
    private void churn(int times) {
        long gcsBefore = gcCount();
        List<byte[]> kept = new ArrayList<>();
        for (long bytes = 0; bytes < times * 2_000_000_000L; bytes += 65_536) {
            byte[] array = new byte[65_536];
            array[array.length - 1] = 1;
            if (kept.size() < 64) {
                kept.add(array);
            } else {
                kept.set((int) (bytes / 65_536 % 64), array);
            }
        }
        lastChurnGcs = gcCount() - gcsBefore;
    }

    private long lastChurnGcs;

    private static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }

    private static long javaWaits(HotSpotLayout hotspot, long[] counts) {
        return counts[hotspot.stateValue(OsThreadState.CONDVAR_WAIT)] + counts[hotspot.stateValue(OsThreadState.OBJECT_WAIT)]
                + counts[hotspot.stateValue(OsThreadState.MONITOR_WAIT)] + counts[hotspot.stateValue(OsThreadState.SLEEPING)];
    }

    private void print(HotSpotLayout hotspot, Map<String, long[]> perPhase) {
        String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
                .collect(Collectors.joining(", "));
        System.out.printf("futex sleeps at switch-out by OSThread::_state (GC: %s; churn ran %d GCs)%n", gcs, lastChurnGcs);
        for (Map.Entry<String, long[]> phase : perPhase.entrySet()) {
            StringBuilder line = new StringBuilder(String.format("  %-26s", phase.getKey()));
            long[] counts = phase.getValue();
            for (OsThreadState state : OsThreadState.values()) {
                long count = counts[hotspot.stateValue(state)];
                if (count > 0) {
                    line.append(' ').append(state).append('=').append(count);
                }
            }
            for (int why : new int[] {StateCountingProgram.OUT_OF_RANGE, StateCountingProgram.UNREADABLE, StateCountingProgram.NO_ADDRESS}) {
                if (counts[why] > 0) {
                    line.append(" [").append(why).append("]=").append(counts[why]);
                }
            }
            System.out.println(line);
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
