package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.symbols.PerfMapWriter;
import dev.eventloopguardian.symbols.ProcessSymbols;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns an event's numbers into names: the syscall's, and each stack frame's. Shared by every format.
 *
 * <p>JIT frames are named from their process's perf map. When a stack has JIT frames that no map
 * names and its process is a HotSpot JVM, the JVM is asked through {@code perfMaps} to write one
 * (see {@link ProcessSymbols#updateJitNames} for how often), and naming waits for it up to
 * {@link #PERF_MAP_WAIT}: the event that prompted the ask then carries the names. A JVM that
 * cannot be asked keeps its frames as addresses, and {@code notes} is told so once.
 */
final class StackNames {
    /**
     * The longest an event waits for its JVM to write a perf map. A first ask took 150-400 ms here
     * (the Attach API's first poll for the JVM's new listener comes after 100 ms), later ones
     * 10-90 ms; it happens at most once per JVM every few seconds.
     */
    static final Duration PERF_MAP_WAIT = Duration.ofSeconds(1);

    private final SyscallTable syscalls;
    private final KernelSymbols kernel;
    private final PerfMapWriter perfMaps;
    private final Consumer<String> notes;
    private boolean unaskableNoted;
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

    /**
     * A stack's names, and what its JIT frames were named with: the version of the process's perf
     * map, and the frames it did not name.
     */
    private record Named(List<String> kernel, List<String> user, boolean hasJit, long jitVersion, long[] unnamedJit) {
        /** Whether the process's JIT code has other names since: a JVM frees and reuses its code's addresses. */
        boolean outdated(ProcessSymbols symbols) {
            return hasJit && jitVersion != symbols.jitNamesVersion();
        }
    }

    /** Names stacks; {@code perfMaps} asks JVMs for their perf maps, and {@code notes} hears what stays unnamed. */
    StackNames(SyscallTable syscalls, KernelSymbols kernel, PerfMapWriter perfMaps, Consumer<String> notes) {
        this.syscalls = syscalls;
        this.kernel = kernel;
        this.perfMaps = perfMaps;
        this.notes = notes;
    }

    /** All the names of one event, resolved once for every consumer. */
    NamedEvent name(BlockingEvent event) {
        Image image = new Image(event.pid(), event.execId());
        // The user side first: its process may exit at any moment, taking its memory map with it.
        ProcessSymbols symbols = processes.computeIfAbsent(image, seen -> ProcessSymbols.of(seen.pid()));
        long[] user = trueFrames(symbols, event.userStack());
        RawStacks raw = new RawStacks(image, event.kernelStack(), user);
        Named stacks = named.get(raw);
        if (stacks == null || stacks.outdated(symbols)) {
            stacks = named(symbols, raw.user(), stacks != null ? stacks.kernel() : kernelStack(raw.kernel()));
            named.put(raw, stacks);
        }
        if (stacks.unnamedJit().length > 0) {
            if (symbols.updateJitNames(stacks.unnamedJit(), perfMaps, PERF_MAP_WAIT)) {
                stacks = named(symbols, raw.user(), stacks.kernel());
                named.put(raw, stacks);
            }
            noteUnaskable(symbols);
        }
        return new NamedEvent(event, syscall(event), stacks.kernel(), stacks.user());
    }

    private static Named named(ProcessSymbols symbols, long[] user, List<String> kernel) {
        List<String> names = userStack(symbols, user);
        boolean hasJit = false;
        long[] unnamed = new long[user.length];
        int count = 0;
        for (long address : user) {
            hasJit |= symbols.isJit(address);
            if (symbols.isUnnamedJit(address)) {
                unnamed[count++] = address;
            }
        }
        // Last: naming may have read a changed map, and these names are that version's.
        return new Named(kernel, names, hasJit, symbols.jitNamesVersion(), Arrays.copyOf(unnamed, count));
    }

    private void noteUnaskable(ProcessSymbols symbols) {
        if (!unaskableNoted && symbols.jitNamesUnavailable().isPresent()) {
            unaskableNoted = true;
            notes.accept("JIT frames of pid " + symbols.pid() + " stay unnamed: it cannot be asked for a perf map ("
                    + symbols.jitNamesUnavailable().get() + ")");
        }
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
        if (count == 0 && addresses.length > 0 && addresses[0] != 0) {
            // The innermost frame is where the syscall was made, always code: when the map says
            // otherwise, the process exited or exec'd before its map was read. The frame stays,
            // as a raw address, rather than an empty stack.
            return new long[] {addresses[0]};
        }
        return count == addresses.length ? addresses : Arrays.copyOf(addresses, count);
    }

    /** Reads kallsyms on a background thread now, rather than on the first event (about 100 ms). */
    void warmUp() {
        Thread.ofPlatform().daemon().name("kallsyms").start(kernel::size);
    }

    private String syscall(BlockingEvent event) {
        return syscalls.name((int) event.syscall()).orElseGet(() -> "syscall_" + event.syscall()); // not made per event
    }

    /**
     * The kernel stack's frames, named, without the frames of the guard itself: a program on a
     * tracepoint (a host watch's) is walked from its own frame, then the tracepoint's
     * ({@code bpf_prog_..._evloop_host}, {@code bpf_trace_run4}), above {@code __schedule}.
     */
    private List<String> kernelStack(long[] addresses) {
        List<String> frames = new ArrayList<>(addresses.length);
        for (long address : addresses) {
            String frame = kernel.resolve(address);
            if (frames.isEmpty() && (frame.startsWith("bpf_prog_") || frame.startsWith("bpf_trace_run"))) {
                continue;
            }
            frames.add(frame);
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
