package dev.eventloopguardian.jvm;

import dev.eventloopguardian.sys.Linux;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The layout read from this very JVM: its tid map holds the threads gettid() names, and a
 * thread's {@code OSThread::_state}, read from another thread, says how it waits.
 */
class HotSpotLayoutTest {
    private static HotSpotLayout layout;
    private volatile boolean stop;
    private Thread subject;

    @BeforeAll
    static void readLayout() throws HotSpotLayoutException {
        layout = HotSpotLayout.ofThisJvm();
    }

    @AfterEach
    void stopSubject() throws InterruptedException {
        stop = true;
        if (subject != null) {
            subject.interrupt();
            subject.join(5_000);
        }
    }

    @Test
    void theTidMapHoldsThisThreadAndNamesItRunnable() {
        int tid = Linux.tid();
        assertThat(layout.osThreadStateAddresses()).containsKey(tid);
        assertThat(layout.osThreadState(tid)).contains(OsThreadState.RUNNABLE);
    }

    @Test
    void statesAreNumberedAsTheHeaderDeclaresThem() {
        // osThreadBase.hpp: ALLOCATED, INITIALIZED, RUNNABLE, ... in this order, from 0.
        for (OsThreadState state : OsThreadState.values()) {
            assertThat(layout.stateValue(state)).as(state.name()).isEqualTo(state.ordinal());
        }
    }

    @Test
    void aSleepingThreadIsInACondvarWait() throws Exception {
        assertWaitsIn(() -> {
            while (!stop) {
                Thread.sleep(10_000);
            }
        }, OsThreadState.CONDVAR_WAIT);
    }

    @Test
    void aParkedThreadIsInACondvarWait() throws Exception {
        assertWaitsIn(() -> {
            while (!stop) {
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(10));
            }
        }, OsThreadState.CONDVAR_WAIT);
    }

    @Test
    void aThreadInObjectWaitIsInAnObjectWait() throws Exception {
        Object lock = new Object();
        assertWaitsIn(() -> {
            synchronized (lock) {
                while (!stop) {
                    lock.wait(10_000);
                }
            }
        }, OsThreadState.OBJECT_WAIT);
    }

    @Test
    void aThreadEnteringAHeldMonitorIsInAMonitorWait() throws Exception {
        Object lock = new Object();
        CountDownLatch held = new CountDownLatch(1);
        synchronized (lock) {
            int tid = start(() -> {
                synchronized (lock) {
                    held.countDown();
                }
            });
            awaitJavaState(Thread.State.BLOCKED);
            assertThat(awaitState(tid, OsThreadState.MONITOR_WAIT)).isEqualTo(OsThreadState.MONITOR_WAIT);
        }
        assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aSpinningThreadIsRunnable() throws Exception {
        int tid = start(() -> {
            long spins = 0;
            while (!stop) {
                spins++;
            }
            assertThat(spins).isPositive();
        });
        // Sampled many times: a spinning thread never sets a wait state, whenever it is looked at.
        for (int i = 0; i < 1_000; i++) {
            assertThat(layout.osThreadState(tid)).contains(OsThreadState.RUNNABLE);
        }
    }

    /**
     * Where OSThread::_state is not enough: a thread that asks for a GC waits for the VM thread
     * in Monitor::wait, which sets CONDVAR_WAIT as a park does, while java.lang.Thread's own
     * status (threadStatus, set only by the Java-level waits) still says RUNNABLE.
     */
    @Test
    void aThreadWaitingForItsOwnGcIsInACondvarWaitYetRunnableToJava() throws Exception {
        int tid = start(() -> {
            while (!stop) {
                System.gc();
            }
        });
        int condvarAndRunnable = 0;
        int condvarAndWaiting = 0;
        // Each GC of this JVM's heap takes its time: on a busy machine, 20 sightings take seconds.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (condvarAndRunnable < 20 && System.nanoTime() < deadline) {
            if (layout.osThreadState(tid).orElseThrow() == OsThreadState.CONDVAR_WAIT) {
                if (subject.getState() == Thread.State.RUNNABLE) {
                    condvarAndRunnable++;
                } else {
                    condvarAndWaiting++;
                }
            }
        }
        System.out.printf("own System.gc(): CONDVAR_WAIT seen with Thread.State RUNNABLE %d times, otherwise %d%n",
                condvarAndRunnable, condvarAndWaiting);
        assertThat(condvarAndRunnable).isEqualTo(20);
    }

    /** The command line loads its guard with HotSpot's numbers before any JVM links: they must be this JVM's. */
    @Test
    void theWaitStatesTheCommandLineAssumesAreThisJvms() {
        assertThat(HotSpotThreads.javaWaitStates(layout)).isEqualTo(JvmLinks.HOTSPOT_WAIT_STATES);
    }

    @Test
    void aThreadThatEndedLeavesTheMap() throws Exception {
        int tid = start(() -> {
        });
        subject.join(5_000);
        // join() returns once the Java thread is TERMINATED; HotSpot takes it off its list a
        // little later (JavaThread::exit notifies joiners before Threads::remove).
        awaitCondition(() -> !layout.osThreadStateAddresses().containsKey(tid), "tid " + tid + " to leave the list");
        assertThat(layout.osThreadStateAddresses()).doesNotContainKey(tid);
    }

    @Test
    void aLibraryThatIsNotHotSpotSaysSo() {
        Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
        assertThatThrownBy(() -> VmStructs.read(libc))
                .isInstanceOf(HotSpotLayoutException.class)
                .hasMessageContaining("does not export gHotSpotVM")
                .hasMessageContaining("not HotSpot");
    }

    @Test
    void aMissingFieldIsNamed() throws HotSpotLayoutException {
        VmStructs structs = VmStructs.ofThisJvm();
        assertThatThrownBy(() -> structs.field("OSThread", "_no_such_field"))
                .isInstanceOf(HotSpotLayoutException.class)
                .hasMessageContaining("OSThread::_no_such_field")
                .hasMessageContaining("not HotSpot, or a HotSpot too old");
        assertThatThrownBy(() -> structs.intConstant("NO_SUCH_STATE"))
                .hasMessageContaining("NO_SUCH_STATE");
    }

    @Test
    void fieldsAreFoundInTheClassThatDeclaresThem() throws HotSpotLayoutException {
        VmStructs structs = VmStructs.ofThisJvm();
        // _osthread is Thread's; JavaThread derives from it.
        assertThat(structs.field("JavaThread", "_osthread")).isEqualTo(structs.field("Thread", "_osthread"));
    }

    private interface Work {
        void run() throws InterruptedException;
    }

    /** Starts the subject thread and returns its kernel tid, taken by the thread itself. */
    private int start(Work work) throws Exception {
        CompletableFuture<Integer> tid = new CompletableFuture<>();
        subject = Thread.ofPlatform().name("elg-hotspot-subject").start(() -> {
            tid.complete(Linux.tid());
            try {
                work.run();
            } catch (InterruptedException e) {
                // asked to stop
            }
        });
        return tid.get(5, TimeUnit.SECONDS);
    }

    /** Runs {@code work}, which waits with a timeout, and checks the state seen once it waits. */
    private void assertWaitsIn(Work work, OsThreadState expected) throws Exception {
        int tid = start(work);
        awaitJavaState(Thread.State.TIMED_WAITING);
        assertThat(awaitState(tid, expected)).isEqualTo(expected);
    }

    private void awaitJavaState(Thread.State state) throws InterruptedException {
        awaitCondition(() -> subject.getState() == state, "the subject thread in " + state);
    }

    /**
     * The subject's OSThread state once it is {@code expected}, or the last one seen after 5 s:
     * Thread.getState() changes a little before the VM sets its own hint.
     */
    private OsThreadState awaitState(int tid, OsThreadState expected) throws InterruptedException {
        OsThreadState seen = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            seen = layout.osThreadState(tid).orElseThrow();
            if (seen == expected) {
                return seen;
            }
            Thread.sleep(1);
        }
        return seen;
    }

    private static void awaitCondition(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(1);
        }
    }
}
