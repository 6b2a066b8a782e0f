package dev.eventloopguardian.jvm;

import java.util.List;
import java.util.Set;

/**
 * What a guard needs of HotSpot to classify a JVM thread's futex sleeps: where each thread's
 * wait state lives, which states are Java-level waits, and what kind of blocking each is.
 */
final class HotSpotThreads {
    private final HotSpotLayout layout;

    private HotSpotThreads(HotSpotLayout layout) {
        this.layout = layout;
    }

    static HotSpotThreads ofThisJvm() {
        try {
            return new HotSpotThreads(HotSpotLayout.ofThisJvm());
        } catch (HotSpotLayoutException e) {
            throw new GuardianException("cannot read this JVM's thread layout, so Java-level waits cannot be told from "
                    + "the VM's own: " + e.getMessage(), e);
        }
    }

    /** The states a Java-level sleep, park, {@code Object.wait} or contended monitor puts a thread in. */
    Set<Integer> javaWaitStates() {
        return Set.of(layout.stateValue(OsThreadState.CONDVAR_WAIT), layout.stateValue(OsThreadState.OBJECT_WAIT),
                layout.stateValue(OsThreadState.MONITOR_WAIT));
    }

    /** The address of thread {@code tid}'s wait state; the thread must be a live Java thread of this JVM. */
    long stateAddressOf(int tid) {
        Long address = layout.osThreadStateAddresses().get(tid);
        if (address == null) {
            throw new GuardianException("tid " + tid + " is not a Java thread of this JVM (or it has ended)", null);
        }
        return address;
    }

    /** A sleep and a park share a state; the stack tells them apart. */
    BlockingCall.Kind kindOf(int state, List<StackTraceElement> stack) {
        if (state == layout.stateValue(OsThreadState.OBJECT_WAIT)) {
            return BlockingCall.Kind.WAIT;
        }
        if (state == layout.stateValue(OsThreadState.MONITOR_WAIT)) {
            return BlockingCall.Kind.MONITOR;
        }
        boolean sleeping = stack.stream().limit(8).anyMatch(frame -> frame.getClassName().equals("java.lang.Thread")
                && frame.getMethodName().startsWith("sleep"));
        return sleeping ? BlockingCall.Kind.SLEEP : BlockingCall.Kind.PARK;
    }
}
