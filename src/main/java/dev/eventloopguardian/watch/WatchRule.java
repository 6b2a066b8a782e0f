package dev.eventloopguardian.watch;

import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.proc.ProcessFacts;

import java.util.List;

/**
 * One rule of a host watch: which processes it may apply to (by executable and by cgroup; any
 * process when it names neither), which of their threads (the policy's thread names; any when
 * none), and what counts as blocking there and what is done about it (the policy, which reports
 * and may also signal). A process needs to match one of the executables, if any are given, and
 * one of the cgroups, if any are given.
 */
public record WatchRule(String name, List<PathGlob> executables, List<PathGlob> cgroups, Policy policy) {
    public WatchRule {
        executables = List.copyOf(executables);
        cgroups = List.copyOf(cgroups);
        if (!policy.report()) {
            throw new IllegalArgumentException("rule '" + name + "': a watch's rules report");
        }
    }

    /** Whether this rule may apply to the threads of the process {@code facts} describe. */
    public boolean selects(ProcessFacts facts) {
        return (executables.isEmpty() || executables.stream().anyMatch(glob -> glob.matches(facts.executable())))
                && (cgroups.isEmpty() || cgroups.stream().anyMatch(glob -> glob.matches(facts.cgroup())));
    }
}
