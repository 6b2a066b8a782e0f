package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.perf.PerfException;

/**
 * Binds threads to a guard this JVM loaded itself: one perf event each, opened on the thread's
 * tid, and its HotSpot wait state registered with the guard so that its futex sleeps can be
 * classified.
 */
final class GuardBinding implements GuardedThreads.Binding {
    private final Guard guard;
    private final HotSpotThreads hotSpot;

    GuardBinding(Guard guard, HotSpotThreads hotSpot) {
        this.guard = guard;
        this.hotSpot = hotSpot;
    }

    @Override
    public Runnable bind(Thread thread, int tid) {
        PerfEvent event = null;
        try {
            // Registered before the event runs: its first futex sleep is classified already.
            guard.watchJavaThread(tid, hotSpot.waitsOf(tid));
            event = PerfEvent.contextSwitches(tid, PerfEvent.Options.live(false));
            event.attach(guard.programFd());
            event.enable();
        } catch (GuardException | PerfException e) {
            if (event != null) {
                event.close();
            }
            throw new GuardianException("cannot guard " + thread + " (tid " + tid + "): " + e.getMessage(), e);
        }
        PerfEvent attached = event;
        return () -> {
            attached.close();
            try {
                guard.forgetJavaThread(tid);
            } catch (GuardException e) {
                // The entry stays until the map is closed; a new thread with this tid is registered over it.
            }
        };
    }

    @Override
    public void close() {
        guard.close();
    }
}
