package dev.eventloopguardian.report;

import dev.eventloopguardian.proc.ProcessFacts;

import dev.eventloopguardian.guard.BlockingEvent;

import java.io.PrintWriter;
import java.io.Writer;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * Prints each blocking event as a person reads it: when, which thread, which syscall with its
 * arguments, then the kernel and user stacks with names.
 */
final class TextReport implements EventFormat {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    private final PrintWriter out;

    TextReport(Writer out) {
        this.out = out instanceof PrintWriter printer ? printer : new PrintWriter(out);
    }

    @Override
    public void write(NamedEvent named) {
        BlockingEvent event = named.event();
        StringBuilder arguments = new StringBuilder();
        for (long argument : event.arguments()) {
            arguments.append(arguments.isEmpty() ? "" : ", ").append("0x").append(Long.toHexString(argument));
        }
        String javaWait = named.kind().equals("syscall") ? "" : "a Java " + named.kind() + ", ";
        out.printf("eventloop-guardian: %s pid %d tid %d (%s) blocked in %s%s(%s) [%c]%s%n",
                TIME.format(event.wallTime()), event.pid(), event.tid(), event.thread(), javaWait, named.syscall(),
                arguments, event.stateLetter(), length(named));
        named.attributes().ifPresent(attributes -> out.println("    " + describe(attributes)));
        named.java().ifPresent(java -> {
            out.println("    java stack of \"" + java.threadName() + "\"" + (java.virtualThread() ? " (a virtual thread)" : "")
                    + (java.stackAfterWake() ? ", taken after it woke (where it went next)" : "") + ":");
            java.stack().forEach(frame -> out.println("      at " + frame));
        });
        out.println("    kernel stack:");
        named.kernelStack().forEach(frame -> out.println("      " + frame));
        out.println("    user stack:");
        named.userStack().forEach(frame -> out.println("      " + frame));
    }

    /** One line of who the event belongs to: {@code process node, unit api.service, container docker 3f2a..., rule node}. */
    private static String describe(Attribution.Attributes attributes) {
        ProcessFacts process = attributes.process();
        // A command line may hold newlines (python3 -c 'a program'): this stays one line.
        String commandLine = process.commandLine().replace("\n", "\\n").replace("\t", "\\t");
        StringBuilder line = new StringBuilder("process ").append(process.name()).append(" (").append(commandLine).append(')');
        process.systemdUnit().ifPresent(unit -> line.append(", unit ").append(unit));
        process.container().ifPresent(container -> line.append(", container ").append(container.runtime()).append(' ')
                .append(container.id(), 0, Math.min(12, container.id().length())));
        process.podUid().ifPresent(uid -> line.append(", pod ").append(uid));
        attributes.rule().ifPresent(rule -> line.append(", rule ").append(rule));
        return line.toString();
    }

    @Override
    public void woke(NamedEvent named, long nanos) {
        BlockingEvent event = named.event();
        out.printf("eventloop-guardian: %s pid %d tid %d (%s) woke from %s after %s%n",
                TIME.format(event.wallTime()), event.pid(), event.tid(), event.thread(), named.syscall(),
                readable(nanos));
    }

    private static String length(NamedEvent named) {
        if (named.stillAsleep()) {
            return " still asleep";
        }
        return named.blockedNanos().isPresent() ? " for " + readable(named.blockedNanos().getAsLong()) : "";
    }

    /** A length as people write it, to three significant digits: 850 ns, 12.3 us, 100 ms, 1.50 s. */
    static String readable(long nanos) {
        if (nanos < 1_000) {
            return nanos + " ns";
        }
        String[] units = {"us", "ms", "s"};
        double value = nanos / 1_000.0;
        int unit = 0;
        while (value >= 1_000 && unit < units.length - 1) {
            value /= 1_000;
            unit++;
        }
        String digits = value >= 100 ? "%.0f" : value >= 10 ? "%.1f" : "%.2f";
        return String.format(java.util.Locale.ROOT, digits, value) + " " + units[unit];
    }

    @Override
    public void flush() {
        out.flush();
    }

    @Override
    public void close() {
        out.flush();
    }
}
