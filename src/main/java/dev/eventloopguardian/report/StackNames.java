package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.symbols.ProcessSymbols;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns an event's numbers into names: the syscall's, and each stack frame's. Shared by every format. */
final class StackNames {
    private final SyscallTable syscalls;
    private final KernelSymbols kernel;
    /** Processes seen lately, by pid and exec count: a process that execs is a new image to name. */
    private final Map<Image, ProcessSymbols> processes = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Image, ProcessSymbols> eldest) {
            return size() > PROCESSES_KEPT;
        }
    };

    private record Image(int pid, long execId) {
    }

    /** Enough for every process of a busy session at once; a forking workload cycles through. */
    private static final int PROCESSES_KEPT = 64;

    StackNames(SyscallTable syscalls, KernelSymbols kernel) {
        this.syscalls = syscalls;
        this.kernel = kernel;
    }

    /** All the names of one event, resolved once for every consumer. */
    NamedEvent name(BlockingEvent event) {
        // The user side first: its process may exit at any moment, taking its memory map with it.
        List<String> user = userStack(event);
        return new NamedEvent(event, syscall(event), kernelStack(event), user);
    }

    /** Reads kallsyms on a background thread now, rather than on the first event (about 100 ms). */
    void warmUp() {
        Thread.ofPlatform().daemon().name("kallsyms").start(kernel::size);
    }

    private String syscall(BlockingEvent event) {
        return syscalls.name((int) event.syscall()).orElse("syscall_" + event.syscall());
    }

    private List<String> kernelStack(BlockingEvent event) {
        List<String> frames = new ArrayList<>(event.kernelStack().length);
        for (long address : event.kernelStack()) {
            frames.add(kernel.resolve(address));
        }
        return frames;
    }

    private List<String> userStack(BlockingEvent event) {
        ProcessSymbols symbols = processes.computeIfAbsent(new Image(event.pid(), event.execId()),
                image -> ProcessSymbols.of(image.pid()));
        List<String> frames = new ArrayList<>(event.userStack().length);
        for (long address : event.userStack()) {
            if (address != 0) { // the frame-pointer walk ends in a zero where a frame had none
                frames.add(symbols.resolve(address));
            }
        }
        return frames;
    }
}
