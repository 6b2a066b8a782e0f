package dev.eventloopguardian.report;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a report session saw, counted: per syscall, per thread and per stack, printed at the end,
 * and optionally written as folded stacks for flame graphs (flamegraph.pl, speedscope).
 */
final class Summary {
    private static final int TOP_STACKS = 5;

    private final Map<String, Long> bySyscall = new HashMap<>();
    private final Map<String, Long> byThread = new HashMap<>();
    private final Map<List<String>, Long> byStack = new LinkedHashMap<>();
    private final Map<String, Long> folded = new LinkedHashMap<>();
    private long events;

    void add(NamedEvent named) {
        events++;
        bySyscall.merge(named.syscall(), 1L, Long::sum);
        byThread.merge(named.event().thread() + " (tid " + named.event().tid() + ")", 1L, Long::sum);
        List<String> stack = new ArrayList<>();
        stack.add(named.syscall());
        stack.addAll(named.userStack());
        byStack.merge(stack, 1L, Long::sum);
        folded.merge(fold(named), 1L, Long::sum);
    }

    /** Root first: the thread, the user frames outermost first, then the kernel's; offsets dropped so calls merge. */
    private static String fold(NamedEvent named) {
        List<String> frames = new ArrayList<>();
        frames.add(named.event().thread());
        named.userStack().reversed().forEach(frame -> frames.add(function(frame)));
        named.kernelStack().reversed().forEach(frame -> frames.add(function(frame)));
        return frames.stream().map(frame -> frame.replace(';', ':').replace(' ', '_')).collect(Collectors.joining(";"));
    }

    private static String function(String frame) {
        int offset = frame.indexOf("+0x");
        if (offset <= 0) {
            return frame;
        }
        int file = frame.indexOf(" (", offset);
        return frame.substring(0, offset) + (file > 0 ? frame.substring(file) : "");
    }

    void print(PrintWriter out, long dropped) {
        out.printf("eventloop-guardian: summary: %d blocking sleep%s, %d dropped%n", events, events == 1 ? "" : "s", dropped);
        if (events > 0) {
            out.println("  by syscall: " + ranked(bySyscall));
            out.println("  by thread:  " + ranked(byThread));
            out.println("  top stacks (syscall, then user frames, innermost first):");
            byStack.entrySet().stream()
                    .sorted(Map.Entry.<List<String>, Long>comparingByValue().reversed())
                    .limit(TOP_STACKS)
                    .forEach(entry -> out.printf("    %5d  %s%n", entry.getValue(), String.join(" <- ", entry.getKey())));
        }
        out.flush();
    }

    private static String ranked(Map<String, Long> counts) {
        return counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .map(entry -> entry.getKey() + " " + entry.getValue())
                .collect(Collectors.joining(", "));
    }

    void writeFolded(Writer out) {
        PrintWriter printer = new PrintWriter(out);
        folded.forEach((stack, count) -> printer.println(stack + " " + count));
        printer.flush();
    }

    long events() {
        return events;
    }
}
