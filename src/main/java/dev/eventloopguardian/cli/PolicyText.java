package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.guard.ThreadPattern;

import java.util.Map;
import java.util.OptionalInt;
import java.util.SortedSet;
import java.util.stream.Collectors;

/** The human-readable form of a policy that {@code --print-policy} prints. */
final class PolicyText {
    private PolicyText() {
    }

    static String describe(Policy policy, SyscallTable table, boolean allThreads) {
        StringBuilder out = new StringBuilder();
        out.append("threads:  ").append(allThreads ? "COMMAND's main thread and every thread or process it creates"
                : "COMMAND's main thread (the one that execs)").append('\n');
        if (!policy.threads().isEmpty()) {
            out.append("names:    only threads named ").append(policy.threads().stream().map(ThreadPattern::glob)
                    .collect(Collectors.joining(", "))).append(" (the kernel's 15-character names)\n");
        }
        out.append("counts:   a sleep inside a syscall in state ")
                .append(policy.includeUninterruptible() ? "S (interruptible) or D (uninterruptible)" : "S (interruptible)")
                .append("; never a page fault or a preemption\n");
        out.append("action:   ");
        policy.signal().ifPresent(signal -> out.append("send ").append(signal.name()).append(" to the thread")
                .append(signal.dumpsCore() ? " (default action: core dump)" : "").append(policy.report() ? "; " : ""));
        out.append(policy.report() ? "report it with the syscall, its arguments and both stacks" : "").append('\n');
        out.append("allowed:  (").append(table.arch().kernelName()).append(" syscall numbers)\n");
        if (policy.allowed().isEmpty()) {
            out.append("  (none)\n");
        }
        for (String name : policy.allowed()) {
            out.append(String.format("  %-16s %s  %s", name, number(table, name), Policy.reason(name)).stripTrailing())
                    .append('\n');
        }
        out.append("allowed for some file descriptors (first argument):\n");
        if (policy.allowedFds().isEmpty()) {
            out.append("  (none)\n");
        }
        for (Map.Entry<String, SortedSet<Integer>> rule : policy.allowedFds().entrySet()) {
            out.append(String.format("  %-16s %s  fd %s%n", rule.getKey(), number(table, rule.getKey()),
                    rule.getValue().stream().map(String::valueOf).collect(Collectors.joining(", "))));
        }
        return out.toString();
    }

    private static String number(SyscallTable table, String name) {
        OptionalInt number = table.number(name);
        return String.format("%5s", number.isPresent() ? "#" + number.getAsInt() : "n/a");
    }
}
