package dev.eventloopguardian.jvm;

import java.util.Map;
import java.util.Set;

/**
 * Tells the event-loop threads of one framework, for {@link EventLoopGuardian.Builder#knownEventLoops()}.
 * Implementations are found with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/dev.eventloopguardian.jvm.EventLoopThreads}); ours know their framework by
 * class names alone, so that no framework is needed at compile time or on the class path.
 */
public interface EventLoopThreads {
    /** The framework, for messages: "Netty", "Vert.x", "Reactor". */
    String framework();

    /** Whether {@code thread} is one of the framework's event loops, which must never block. */
    boolean isEventLoop(Thread thread);

    /**
     * Methods inside which the framework's own threads block by design (a timer's tick, a
     * shutdown's quiet period, an idle executor's wait for a task), class name to method names:
     * {@link EventLoopGuardian.Builder#knownEventLoops()} does not report calls with such a frame
     * on their Java stack. The stack is taken when the call is read, within about 20 ms, so a
     * shorter block in one of these may still be reported.
     */
    default Map<String, Set<String>> blockingAllowedInside() {
        return Map.of();
    }

    /** Whether {@code type}, one of its superclasses or one of their interfaces is named {@code name}. */
    static boolean isA(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(name)) {
                return true;
            }
            for (Class<?> implemented : c.getInterfaces()) {
                if (isA(implemented, name)) {
                    return true;
                }
            }
        }
        return false;
    }
}
