package dev.eventloopguardian.guard;

import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.sys.Linux;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * Runs {@code work} on a new platform thread of this JVM with {@code guard} attached to that
 * thread alone, from before the work starts until it ends.
 */
final class LiveThread {
    /** Work that may be interrupted. */
    interface Work {
        void run() throws InterruptedException;
    }

    private LiveThread() {
    }

    static void runGuarded(Guard guard, String name, Work work) throws Exception {
        runGuarded(guard, 1, name, work);
    }

    /** With {@code events} perf events on the thread, each running the guard: as attach may leave it. */
    static void runGuarded(Guard guard, int events, String name, Work work) throws Exception {
        CountDownLatch attached = new CountDownLatch(1);
        CompletableFuture<Integer> tid = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().name(name).start(() -> {
            tid.complete(Linux.tid());
            try {
                attached.await();
                work.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<PerfEvent> opened = new ArrayList<>();
        try {
            for (int i = 0; i < events; i++) {
                PerfEvent event = PerfEvent.contextSwitches(tid.get(), PerfEvent.Options.live(false));
                opened.add(event);
                event.attach(guard.programFd());
                event.enable();
            }
            attached.countDown();
            thread.join();
        } finally {
            attached.countDown();
            opened.forEach(PerfEvent::close);
        }
    }
}
