package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;

import java.util.List;

/** A blocking event with its syscall and stack frames named, innermost frame first. */
record NamedEvent(BlockingEvent event, String syscall, List<String> kernelStack, List<String> userStack) {
}
