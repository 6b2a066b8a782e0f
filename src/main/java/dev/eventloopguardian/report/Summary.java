package dev.eventloopguardian.report;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What a report session saw, counted: per syscall, per thread and per stack, printed at the end,
 * and optionally written as folded stacks for flame graphs (flamegraph.pl, speedscope).
 */
final class Summary {
    private static final int TOP_STACKS = 5;
    /** User frames shown per top stack: the innermost say where it blocked; the folded file has them all. */
    private static final int TOP_STACK_FRAMES = 8;

    // Each event is counted once, under everything the summary tells it by: the per-syscall,
    // per-thread, per-stack and folded counts are sums over these, made at the end. The key holds
    // the named stacks as they are (StackNames shares them between events of a stack), so that
    // counting an event allocates next to nothing; they are turned into text at the end.
    private record Seen(String what, String thread, int tid, List<String> java, List<String> user, List<String> kernel) {
    }

    private record ThreadKey(String name, int tid) {
        @Override
        public String toString() {
            return name + " (tid " + tid + ")";
        }
    }

    private record StackKey(String syscall, List<String> user) {
    }

    private record FoldKey(String thread, List<String> java, List<String> user, List<String> kernel) {
    }

    /** In the order first seen: ties among the top stacks, and the folded lines, keep that order. */
    private final Map<Seen, long[]> seen = new LinkedHashMap<>();
    private long events;

    void add(NamedEvent named) {
        events++;
        List<String> java = named.java().map(JavaContext::stack).orElse(List.of());
        Seen key = new Seen(named.what(), named.event().thread(), named.event().tid(), java, named.userStack(),
                named.kernelStack());
        long[] count = seen.get(key);
        if (count == null) {
            seen.put(key, new long[] {1});
        } else {
            count[0]++;
        }
    }

    /** The counts summed by what {@code by} keeps of each event, in the order first seen. */
    private <K> Map<K, Long> countedBy(Function<Seen, K> by) {
        Map<K, Long> counts = new LinkedHashMap<>();
        seen.forEach((key, count) -> counts.merge(by.apply(key), count[0], Long::sum));
        return counts;
    }

    /**
     * Root first: the thread, the Java frames, the user frames outermost first, then the
     * kernel's; offsets dropped so calls merge. Java frames come before the native ones: the
     * JIT frames of the user stack are those Java frames, unnamed, and the native frames
     * beneath them (libjvm, libc) are what the innermost Java frame called.
     */
    private static String fold(FoldKey stack) {
        List<String> frames = new ArrayList<>();
        frames.add(stack.thread());
        stack.java().reversed().forEach(frame -> frames.add(FoldedFrames.javaMethod(frame) + "_[j]"));
        stack.user().reversed().forEach(frame -> frames.add(FoldedFrames.function(frame)));
        stack.kernel().reversed().forEach(frame -> frames.add(FoldedFrames.function(frame)));
        return frames.stream().map(frame -> frame.replace(';', ':').replace(' ', '_')).collect(Collectors.joining(";"));
    }

    void print(PrintWriter out, long dropped) {
        out.printf("eventloop-guardian: summary: %d blocking sleep%s, %d dropped%n", events, events == 1 ? "" : "s", dropped);
        if (events > 0) {
            out.println("  by syscall: " + ranked(countedBy(Seen::what)));
            out.println("  by thread:  " + ranked(countedBy(key -> new ThreadKey(key.thread(), key.tid()))));
            out.println("  top stacks (syscall, then Java frames when known, else user frames, innermost first):");
            // A Java stack says more than the JIT addresses of the user stack: the top stacks show it instead.
            countedBy(key -> new StackKey(key.what(), key.java().isEmpty() ? key.user() : key.java())).entrySet().stream()
                    .sorted(Map.Entry.<StackKey, Long>comparingByValue().reversed())
                    .limit(TOP_STACKS)
                    .forEach(entry -> out.printf("    %5d  %s%n", entry.getValue(), topStack(entry.getKey())));
        }
        out.flush();
    }

    private static String topStack(StackKey stack) {
        List<String> frames = new ArrayList<>();
        frames.add(stack.syscall());
        List<String> user = stack.user();
        frames.addAll(user.subList(0, Math.min(user.size(), TOP_STACK_FRAMES)));
        if (user.size() > TOP_STACK_FRAMES) {
            frames.add("... " + (user.size() - TOP_STACK_FRAMES) + " more");
        }
        return String.join(" <- ", frames);
    }

    /** Most first, ties in the order of the keys' text. */
    private static <K> String ranked(Map<K, Long> counts) {
        return counts.entrySet().stream()
                .sorted(Map.Entry.<K, Long>comparingByValue().reversed()
                        .thenComparing(entry -> entry.getKey().toString()))
                .map(entry -> entry.getKey() + " " + entry.getValue())
                .collect(Collectors.joining(", "));
    }

    void writeFolded(Writer out) {
        PrintWriter printer = new PrintWriter(out);
        Map<String, Long> lines = new LinkedHashMap<>();
        countedBy(key -> new FoldKey(key.thread(), key.java(), key.user(), key.kernel()))
                .forEach((stack, count) -> lines.merge(fold(stack), count, Long::sum));
        lines.forEach((stack, count) -> printer.println(stack + " " + count));
        printer.flush();
    }

    long events() {
        return events;
    }
}
