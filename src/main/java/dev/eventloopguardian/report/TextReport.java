package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.symbols.ProcessSymbols;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;

/**
 * Prints each blocking event as a person reads it: when, which thread, which syscall with its
 * arguments, then the kernel and user stacks with names.
 */
public final class TextReport {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    private final PrintWriter out;
    private final SyscallTable syscalls;
    private final KernelSymbols kernel;
    private final Map<Integer, ProcessSymbols> processes = new HashMap<>();
    /** bpf_ktime_get_ns and System.nanoTime both read CLOCK_MONOTONIC: one offset turns it into wall time. */
    private final long wallMinusMonotonic = System.currentTimeMillis() * 1_000_000L - System.nanoTime();

    public TextReport(PrintWriter out, SyscallTable syscalls, KernelSymbols kernel) {
        this.out = out;
        this.syscalls = syscalls;
        this.kernel = kernel;
    }

    public void print(BlockingEvent event) {
        long wallNanos = event.monotonicNanos() + wallMinusMonotonic;
        String syscall = syscalls.name((int) event.syscall()).orElse("syscall " + event.syscall());
        StringBuilder arguments = new StringBuilder();
        for (long argument : event.arguments()) {
            arguments.append(arguments.isEmpty() ? "" : ", ").append("0x").append(Long.toHexString(argument));
        }
        out.printf("eventloop-guardian: %s pid %d tid %d (%s) blocked in %s(%s) [%c]%n",
                TIME.format(Instant.ofEpochSecond(0, wallNanos)), event.pid(), event.tid(), event.thread(), syscall,
                arguments, event.stateLetter());
        out.println("    kernel stack:");
        for (long address : event.kernelStack()) {
            out.println("      " + kernel.resolve(address));
        }
        out.println("    user stack:");
        ProcessSymbols symbols = processes.computeIfAbsent(event.pid(), ProcessSymbols::of);
        for (long address : event.userStack()) {
            if (address != 0) { // the frame-pointer walk ends in a zero where a frame had none
                out.println("      " + symbols.resolve(address));
            }
        }
        out.flush();
    }
}
