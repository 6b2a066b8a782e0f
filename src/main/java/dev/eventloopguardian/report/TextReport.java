package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;

import java.io.PrintWriter;
import java.io.Writer;
import java.time.Instant;
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
        out.printf("eventloop-guardian: %s pid %d tid %d (%s) blocked in %s(%s) [%c]%n",
                TIME.format(WallClock.instant(event)), event.pid(), event.tid(), event.thread(), named.syscall(),
                arguments, event.stateLetter());
        out.println("    kernel stack:");
        named.kernelStack().forEach(frame -> out.println("      " + frame));
        out.println("    user stack:");
        named.userStack().forEach(frame -> out.println("      " + frame));
        out.flush();
    }

    @Override
    public void close() {
        out.flush();
    }
}
