package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.symbols.ProcessSymbols;

import java.util.ArrayList;
import java.util.Arrays;
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

    /** Stacks named lately, by process image and addresses: a storm repeats a few stacks, each named once. */
    private final Map<RawStacks, Named> named = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<RawStacks, Named> eldest) {
            return size() > STACKS_KEPT;
        }
    };

    private static final int STACKS_KEPT = 4096;

    private record RawStacks(Image image, long[] kernel, long[] user) {
        @Override
        public boolean equals(Object other) {
            return other instanceof RawStacks that && image.equals(that.image) && Arrays.equals(kernel, that.kernel)
                    && Arrays.equals(user, that.user);
        }

        @Override
        public int hashCode() {
            return (image.hashCode() * 31 + Arrays.hashCode(kernel)) * 31 + Arrays.hashCode(user);
        }
    }

    private record Named(List<String> kernel, List<String> user) {
    }

    StackNames(SyscallTable syscalls, KernelSymbols kernel) {
        this.syscalls = syscalls;
        this.kernel = kernel;
    }

    /** All the names of one event, resolved once for every consumer. */
    NamedEvent name(BlockingEvent event) {
        Image image = new Image(event.pid(), event.execId());
        // The user side first: its process may exit at any moment, taking its memory map with it.
        ProcessSymbols symbols = processes.computeIfAbsent(image, seen -> ProcessSymbols.of(seen.pid()));
        long[] user = trueFrames(symbols, event.userStack());
        Named stacks = named.computeIfAbsent(new RawStacks(image, event.kernelStack(), user),
                raw -> new Named(kernelStack(raw.kernel()), userStack(symbols, raw.user())));
        return new NamedEvent(event, syscall(event), stacks.kernel(), stacks.user());
    }

    /**
     * The user frames up to the first that is not in code. Past it the frame-pointer walk reads
     * stack contents as frames (code built without frame pointers), which differ from one sleep to
     * the next: kept, they would name each sleep of a storm anew and make every stack unique.
     */
    private static long[] trueFrames(ProcessSymbols symbols, long[] addresses) {
        int count = 0;
        while (count < addresses.length && addresses[count] != 0 && symbols.isCode(addresses[count])) {
            count++;
        }
        return count == addresses.length ? addresses : Arrays.copyOf(addresses, count);
    }

    /** Reads kallsyms on a background thread now, rather than on the first event (about 100 ms). */
    void warmUp() {
        Thread.ofPlatform().daemon().name("kallsyms").start(kernel::size);
    }

    private String syscall(BlockingEvent event) {
        return syscalls.name((int) event.syscall()).orElse("syscall_" + event.syscall());
    }

    private List<String> kernelStack(long[] addresses) {
        List<String> frames = new ArrayList<>(addresses.length);
        for (long address : addresses) {
            frames.add(kernel.resolve(address));
        }
        return List.copyOf(frames);
    }

    private static List<String> userStack(ProcessSymbols symbols, long[] addresses) {
        List<String> frames = new ArrayList<>(addresses.length);
        for (long address : addresses) {
            frames.add(symbols.resolve(address));
        }
        return List.copyOf(frames);
    }
}
