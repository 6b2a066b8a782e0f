package dev.eventloopguardian.jvm;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The carrier threads of virtual threads: which threads they are, and which virtual thread one runs,
 * with that thread's Java stack. No public API maps a carrier
 * to the virtual thread mounted on it: {@code Thread.getAllStackTraces()} and {@code ThreadMXBean}
 * list platform threads only, a carrier's own stack ends at {@code Continuation.run}, and JFR's
 * samples of a virtual thread carry no carrier. HotSpot's {@code Thread.print} diagnostic command
 * does: under a carrier it prints {@code Mounted virtual thread #ID} and that thread's frames
 * (measured on JDK 25.0.3; docs/architecture.md, "Virtual threads").
 */
final class VirtualThreadCarriers {
    /** The class of the default scheduler's threads (internal, but its thread names are any ForkJoinPool's). */
    private static final String CARRIER_THREAD = "jdk.internal.misc.CarrierThread";
    /** The innermost frame of a carrier's own stack while it runs a virtual thread. */
    private static final String CONTINUATION = "jdk.internal.vm.Continuation";
    private static final String VIRTUAL_THREAD = "java.lang.VirtualThread";
    private static final Pattern THREAD_HEADER = Pattern.compile("^\".*\" #(\\d+) ");
    private static final Pattern MOUNTED = Pattern.compile("^\\s+Mounted virtual thread #(\\d+)\\s*$");
    /** {@code \tat CLASS.METHOD(SOURCE)}, as {@code java_lang_Throwable::print_stack_element} writes it. */
    private static final Pattern FRAME = Pattern.compile("^\\tat (.+)\\.([^.(]+)\\((.*)\\)$");
    /** {@code [MODULE[@VERSION]/]FILE:LINE}, {@code Unknown Source} or {@code Native Method}. */
    private static final Pattern SOURCE = Pattern.compile("^(?:([^/@]+)(?:@([^/]+))?/)?(.*?)(?::(\\d+))?$");
    private static final int NATIVE_METHOD = -2;

    /** A virtual thread on a carrier: its id ({@link Thread#threadId()}) and its stack, innermost frame first. */
    record Mounted(long virtualThreadId, List<StackTraceElement> stack) {
    }

    private VirtualThreadCarriers() {
    }

    /**
     * Accepts the carrier threads of the default virtual-thread scheduler.
     *
     * @throws IllegalStateException when this JDK's carriers are not {@code jdk.internal.misc.CarrierThread}s
     */
    static Predicate<Thread> selector() {
        try {
            return Class.forName(CARRIER_THREAD, false, null)::isInstance;
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("this JDK's virtual-thread carriers are not " + CARRIER_THREAD
                    + " threads: select them with threadsNamed", e);
        }
    }

    /** Whether {@code thread} carries virtual threads: a thread of the default scheduler. */
    static boolean isCarrier(Thread thread) {
        for (Class<?> type = thread.getClass(); type != null; type = type.getSuperclass()) {
            if (type.getName().equals(CARRIER_THREAD)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a platform thread's own stack, innermost frame first, is that of a carrier running a virtual thread. */
    static boolean isCarrying(List<StackTraceElement> ownStack) {
        return !ownStack.isEmpty() && ownStack.getFirst().getClassName().equals(CONTINUATION);
    }

    /** The virtual thread mounted on the carrier now, from a thread dump (a safepoint: not for every event). */
    static Optional<Mounted> mountedOn(long carrierJavaId) {
        return mountedIn(NativeThreadIds.threadDump(), carrierJavaId);
    }

    /** The virtual thread that {@code dump} shows mounted on the carrier whose Java id is given. */
    static Optional<Mounted> mountedIn(String dump, long carrierJavaId) {
        List<String> lines = dump.lines().toList();
        int line = 0;
        while (line < lines.size() && !isHeaderOf(lines.get(line), carrierJavaId)) {
            line++;
        }
        for (line++; line < lines.size() && !lines.get(line).isBlank() && !lines.get(line).startsWith("\""); line++) {
            Matcher mounted = MOUNTED.matcher(lines.get(line));
            if (mounted.matches()) {
                return Optional.of(new Mounted(Long.parseLong(mounted.group(1)), framesFrom(lines, line + 1)));
            }
        }
        return Optional.empty();
    }

    private static boolean isHeaderOf(String line, long javaId) {
        Matcher header = THREAD_HEADER.matcher(line);
        return header.find() && Long.parseLong(header.group(1)) == javaId;
    }

    /**
     * The frames that follow, up to the end of the section, in the shape {@link Thread#getStackTrace}
     * gives a virtual thread's: without the method-handle machinery between the caller and a native
     * call (hidden classes, a {@code /0x} in the name, and the pre-generated lambda forms of
     * {@code java.lang.invoke.*$Holder}), so that the innermost frame is the code that made the call,
     * and ending at {@code VirtualThread.run}, below which are the continuation's entry frames.
     */
    private static List<StackTraceElement> framesFrom(List<String> lines, int first) {
        List<StackTraceElement> frames = new ArrayList<>();
        for (int line = first; line < lines.size(); line++) {
            String text = lines.get(line);
            if (text.startsWith("\t- ")) {
                continue; // "- locked <0x...>", "- parking to wait for ...": about the frame above
            }
            Matcher frame = FRAME.matcher(text);
            if (!frame.matches()) {
                break;
            }
            String className = frame.group(1);
            if (isMethodHandleMachinery(className)) {
                continue;
            }
            frames.add(element(className, frame.group(2), frame.group(3)));
            if (className.equals(VIRTUAL_THREAD) && frame.group(2).equals("run")) {
                break;
            }
        }
        return frames;
    }

    private static boolean isMethodHandleMachinery(String className) {
        return className.contains("/0x") || className.startsWith("java.lang.invoke.") && className.endsWith("$Holder");
    }

    private static StackTraceElement element(String className, String method, String source) {
        Matcher parts = SOURCE.matcher(source);
        if (!parts.matches()) {
            return new StackTraceElement(className, method, null, -1);
        }
        String file = parts.group(3);
        int lineNumber = parts.group(4) == null ? -1 : Integer.parseInt(parts.group(4));
        if (file.equals("Native Method")) {
            file = null;
            lineNumber = NATIVE_METHOD;
        } else if (file.equals("Unknown Source") || file.isEmpty()) {
            file = null;
        }
        return new StackTraceElement(null, parts.group(1), parts.group(2), className, method, file, lineNumber);
    }
}
