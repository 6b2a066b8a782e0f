package dev.eventloopguardian.jvm;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The Java thread a guarded thread's sleep is blamed on, with its stack: the thread itself, or
 * the virtual thread it was carrying.
 *
 * @param name    the Java thread's name; {@code virtual thread #ID on CARRIER} for a virtual thread
 * @param javaId  its {@link Thread#threadId()}
 * @param virtual whether it is a virtual thread, pinned to the guarded carrier
 * @param stack   its Java stack, innermost first, taken now
 * @param afterWake whether the stack was taken after the thread woke: it shows where the thread went
 *                  next (often the same code, for a call repeated in a loop), not where it blocked
 */
record Blocker(String name, long javaId, boolean virtual, List<StackTraceElement> stack, boolean afterWake) {
    Blocker {
        stack = List.copyOf(stack);
    }

    /**
     * Who made {@code thread} sleep, asked while the sleep is reported. Empty for a carrier's wait
     * that no virtual thread is known to have caused: a carrier waits for work between virtual
     * threads, as an event loop waits in epoll.
     *
     * @param kind       what the guard saw it sleep in
     * @param stillAsleep whether the thread has not run since it went to sleep, asked after the dump
     * @param kernelName the thread's name as the kernel knows it, for a thread that has just ended
     */
    static Optional<Blocker> of(Thread thread, BlockingCall.Kind kind, BooleanSupplier stillAsleep, String kernelName) {
        long javaId = thread.threadId();
        ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(javaId, Integer.MAX_VALUE);
        List<StackTraceElement> stack = info == null ? List.of() : Arrays.asList(info.getStackTrace());
        String name = info == null ? kernelName : info.getThreadName();
        // Asked after the dump: if the thread has run since its switch-out, the stack shows where
        // it went next, and says so.
        boolean takenAsleep = stillAsleep.getAsBoolean();
        if (VirtualThreadCarriers.isCarrying(stack)) {
            // A dump shows the virtual thread mounted now; one leaves its carrier only while the
            // carrier runs, so if the carrier has not run since its switch-out, asked after the
            // dump, the one in the dump is the one that blocked it. Otherwise nothing is claimed.
            Optional<VirtualThreadCarriers.Mounted> mounted = VirtualThreadCarriers.mountedOn(javaId);
            if (mounted.isPresent() && stillAsleep.getAsBoolean()) {
                long virtualId = mounted.get().virtualThreadId();
                return Optional.of(new Blocker("virtual thread #" + virtualId + " on " + name, virtualId, true,
                        mounted.get().stack(), false));
            }
        }
        if (kind != BlockingCall.Kind.SYSCALL && VirtualThreadCarriers.isCarrier(thread)) {
            return Optional.empty();
        }
        return Optional.of(new Blocker(name, javaId, false, stack, !takenAsleep));
    }

    /** Loads and starts what {@link #of} uses, so that its first use does not keep a blocked thread waiting. */
    static void warmUp() {
        of(Thread.currentThread(), BlockingCall.Kind.SYSCALL, () -> false, "");
    }

    /** Whether a frame of {@code stack} is inside one of {@code exemptions} (class and method named). */
    static boolean isInside(List<StackTraceElement> stack, List<StackTraceElement> exemptions) {
        return stack.stream().anyMatch(frame -> exemptions.stream().anyMatch(exempt ->
                exempt.getClassName().equals(frame.getClassName()) && exempt.getMethodName().equals(frame.getMethodName())));
    }
}
