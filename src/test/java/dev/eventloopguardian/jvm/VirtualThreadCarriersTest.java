package dev.eventloopguardian.jvm;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Telling carriers apart, and reading the virtual thread one runs from HotSpot's Thread.print, as JDK 25.0.3 printed it. */
class VirtualThreadCarriersTest {
    /** A carrier pinned by a virtual thread in an FFM usleep, an idle carrier, and a thread after them. */
    private static final String DUMP = """
            "ForkJoinPool-1-worker-1" #24 [12012] daemon prio=5 os_prio=0 cpu=5.16ms elapsed=0.28s tid=0x00007f5a6c5ff630  [0x00007f5a3ddfc000]
               Carrying virtual thread #23
            \tat jdk.internal.vm.Continuation.run(java.base@25.0.3/Continuation.java:251)
            \tat java.lang.VirtualThread.runContinuation(java.base@25.0.3/VirtualThread.java:297)
            \tat java.util.concurrent.ForkJoinWorkerThread.run(java.base@25.0.3/ForkJoinWorkerThread.java:187)
               Mounted virtual thread #23
            \tat java.lang.invoke.LambdaForm$MH/0x000000003f16d800.invoke(java.base@25.0.3/LambdaForm$MH)
            \tat jdk.internal.foreign.abi.DowncallStub/0x000000003f16e400.invoke(java.base@25.0.3/Unknown Source)
            \tat java.lang.invoke.DirectMethodHandle$Holder.invokeStatic(java.base@25.0.3/DirectMethodHandle$Holder)
            \tat Probe.sleepNativelyInAVirtualThread(Probe.java:16)
            \t- locked <0x000000062a8b1234> (a java.lang.Object)
            \tat Probe.lambda$main$0(Probe.java:23)
            \tat Probe$$Lambda/0x000000003f168210.run(Unknown Source)
            \tat java.lang.Thread.runWith(java.base@25.0.3/Thread.java:1487)
            \tat java.lang.VirtualThread.run(java.base@25.0.3/VirtualThread.java:460)
            \tat java.lang.VirtualThread$VThreadContinuation$1.run(java.base@25.0.3/VirtualThread.java:252)
            \tat jdk.internal.vm.Continuation.enter0(java.base@25.0.3/Continuation.java:325)

            "ForkJoinPool-1-worker-2" #26 [12014] daemon prio=5 os_prio=0 cpu=0.51ms elapsed=0.20s tid=0x00007f5a6c600000 waiting on condition  [0x00007f5a3dcfb000]
               java.lang.Thread.State: WAITING (parking)
            \tat jdk.internal.misc.Unsafe.park(java.base@25.0.3/Native Method)
            \t- parking to wait for  <0x000000062a8b5678> (a java.util.concurrent.ForkJoinPool)
            \tat java.util.concurrent.ForkJoinPool.awaitWork(java.base@25.0.3/ForkJoinPool.java:2109)

            "main" #3 [11990] prio=5 os_prio=0 cpu=120.00ms elapsed=0.40s tid=0x00007f5a6c0200f0 runnable  [0x00007f5a73ffe000]
               Mounted virtual thread #99
            \tat Elsewhere.run(Elsewhere.java:1)
            """;

    @Test
    void theVirtualThreadCarriersFramesInnermostFirstFromTheCallerToVirtualThreadRun() {
        VirtualThreadCarriers.Mounted mounted = VirtualThreadCarriers.mountedIn(DUMP, 24).orElseThrow();

        assertThat(mounted.virtualThreadId()).isEqualTo(23);
        assertThat(mounted.stack()).extracting(StackTraceElement::getMethodName)
                .containsExactly("sleepNativelyInAVirtualThread", "lambda$main$0", "runWith", "run");
        assertThat(mounted.stack().getFirst()).isEqualTo(
                new StackTraceElement(null, null, null, "Probe", "sleepNativelyInAVirtualThread", "Probe.java", 16));
        assertThat(mounted.stack().get(2)).isEqualTo(
                new StackTraceElement(null, "java.base", "25.0.3", "java.lang.Thread", "runWith", "Thread.java", 1487));
    }

    @Test
    void aCarrierWithoutAVirtualThreadHasNone() {
        assertThat(VirtualThreadCarriers.mountedIn(DUMP, 26)).isEmpty();
        assertThat(VirtualThreadCarriers.mountedIn(DUMP, 1234)).isEmpty();
    }

    @Test
    void theDefaultSchedulersThreadsAreCarriersAndNoOtherThreadIs() throws Exception {
        AtomicReference<Thread> carrier = new AtomicReference<>();
        Thread.ofVirtual().start(() -> carrier.set(carrierOfTheCurrentVirtualThread())).join();

        assertThat(VirtualThreadCarriers.isCarrier(carrier.get())).isTrue();
        assertThat(VirtualThreadCarriers.selector().test(carrier.get())).isTrue();
        assertThat(VirtualThreadCarriers.isCarrier(Thread.currentThread())).isFalse();
        assertThat(VirtualThreadCarriers.selector().test(Thread.currentThread())).isFalse();
    }

    /** The carrier is the one platform thread whose own stack is running a continuation while we look. */
    private static Thread carrierOfTheCurrentVirtualThread() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(entry -> VirtualThreadCarriers.isCarrying(List.of(entry.getValue())))
                .map(Map.Entry::getKey).findFirst().orElseThrow();
    }

    @Test
    void aCarrierIsRecognisedByTheInnermostFrameOfItsOwnStack() {
        StackTraceElement continuation = new StackTraceElement("jdk.internal.vm.Continuation", "run", "Continuation.java", 251);
        StackTraceElement park = new StackTraceElement("jdk.internal.misc.Unsafe", "park", null, -2);

        assertThat(VirtualThreadCarriers.isCarrying(List.of(continuation, park))).isTrue();
        assertThat(VirtualThreadCarriers.isCarrying(List.of(park, continuation))).isFalse();
        assertThat(VirtualThreadCarriers.isCarrying(List.of())).isFalse();
    }
}
