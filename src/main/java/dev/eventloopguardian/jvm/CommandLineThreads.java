package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.ThreadPattern;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Predicate;

/**
 * Which threads of a JVM that the command line guards have their Java-level waits classified,
 * as the command line's options say: those whose kernel name matches one of its
 * {@code --threads} globs; without globs, the event loops of the frameworks we know and the
 * carriers of virtual threads. Registering every thread would report the parks of idle
 * executors, which are no event loops.
 */
final class CommandLineThreads {
    private CommandLineThreads() {
    }

    /**
     * The selectors for {@code globs}; without globs, also the frameworks' methods that block by
     * design, added to {@code exemptions}.
     */
    static List<Predicate<Thread>> selectors(List<String> globs, List<StackTraceElement> exemptions) {
        List<Predicate<Thread>> selectors = new ArrayList<>();
        if (!globs.isEmpty()) {
            List<ThreadPattern> patterns = globs.stream().map(ThreadPattern::parse).toList();
            selectors.add(thread -> patterns.stream().anyMatch(pattern -> pattern.matches(kernelName(thread))));
            return selectors;
        }
        for (EventLoopThreads framework : ServiceLoader.load(EventLoopThreads.class, CommandLineThreads.class.getClassLoader())) {
            selectors.add(framework::isEventLoop);
            framework.blockingAllowedInside().forEach((className, methods) ->
                    methods.forEach(method -> exemptions.add(new StackTraceElement(className, method, null, -1))));
        }
        try {
            selectors.add(VirtualThreadCarriers.selector());
        } catch (IllegalStateException noCarriers) {
            // a JDK without virtual threads' carrier class: nothing to select
        }
        return selectors;
    }

    /** The name the kernel gives a thread HotSpot started: its Java name, cut to 15 bytes. */
    static String kernelName(Thread thread) {
        byte[] name = thread.getName().getBytes(StandardCharsets.UTF_8);
        return new String(name, 0, Math.min(name.length, ThreadPattern.COMM_BYTES - 1), StandardCharsets.UTF_8);
    }
}
