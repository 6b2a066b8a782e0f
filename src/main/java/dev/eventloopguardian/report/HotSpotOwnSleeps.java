package dev.eventloopguardian.report;

import java.util.List;

/**
 * Sleeps that HotSpot takes for itself in a syscall the policy counts, told by the JVM's own
 * function on the user stack: {@code SpinYield::yield_or_sleep}, the back-off of its concurrent
 * hash tables, sleeps in {@code clock_nanosleep} for a microsecond at a time while a thread
 * defines a class under contention (seen on a Vert.x loop's first requests and under load, as
 * the JDK spins lambda forms). No Java code reaches it: it is a wait of the VM's, like a
 * safepoint, and a report leaves it out. The guard that aborts cannot tell (README, Limits).
 */
final class HotSpotOwnSleeps {
    /** {@code SpinYield::yield_or_sleep()}, as the symbol table of libjvm names it. */
    private static final String SPIN_YIELD = "_ZN9SpinYield14yield_or_sleepEv+";

    private HotSpotOwnSleeps() {
    }

    /** Whether {@code userStack} (innermost first) shows a sleep of HotSpot's own back-off. */
    static boolean isHotSpotsOwn(List<String> userStack) {
        // The syscall's libc wrapper, then SpinYield itself (its os::naked_short_nanosleep is inlined, as stacks show).
        for (int i = 0; i < Math.min(2, userStack.size()); i++) { // every event passes here: no stream
            String frame = userStack.get(i);
            if (frame.startsWith(SPIN_YIELD) && frame.endsWith("(libjvm.so)")) {
                return true;
            }
        }
        return false;
    }
}
