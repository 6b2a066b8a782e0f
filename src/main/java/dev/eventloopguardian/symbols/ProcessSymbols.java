package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Names for the user-space instruction addresses of one process, from the ELF symbols of the
 * files it maps: {@code clock_nanosleep+0x23 (libc.so.6)}. Where a file has no symbol for the
 * address, {@code libfoo.so+0x1a2b3} names the byte's offset in the file (with the build-id,
 * when the file has one, to symbolize offline); anonymous memory is named by its absolute
 * address and kind, {@code 0x7f3a12345678 (jit)} for executable memory (JIT compilers'
 * code), {@code (heap)}, {@code (stack)}, {@code (anon)}.
 *
 * <p>JIT code is named from the process's perf map when it has one, the file Linux perf reads,
 * {@code /tmp/perf-PID.map} in the process's own file system: {@code long Hot.work(long)+0x24 (jit)},
 * the name as the JIT compiler wrote it. A HotSpot JVM writes one when asked
 * ({@link #updateJitNames}); see {@link PerfMapFile} for when the file is read.
 *
 * <p>The memory map is read when this object is made, so that a process that exits before its
 * stacks are named can still be named, and read again when an address falls outside it (a
 * library loaded since; at most every 100 ms). A process that execs needs a new instance. Files
 * are opened through {@code /proc/PID/root}, so a process in a container is named from its own
 * files; a file deleted or replaced since it was mapped is read through
 * {@code /proc/PID/map_files} (which needs CAP_SYS_ADMIN), or else named by file and offset.
 * Instances may be shared between threads.
 */
public final class ProcessSymbols {
    // Unwinding without frame pointers yields garbage addresses: re-reading the map for each
    // would cost more than the stacks are worth.
    private static final long REFRESH_NANOS = 100_000_000L;

    private final int pid;
    private final Path proc;
    private final Map<String, Optional<ElfSymbols>> files = new HashMap<>();
    private List<Mapping> mappings;
    private boolean hotSpot;
    private long readAt;
    private String unavailable;
    /** The perf map, looked for at the first JIT address; null before, or when the process was gone. */
    private PerfMapFile perfMap;
    private boolean perfMapLooked;

    private ProcessSymbols(int pid) {
        this.pid = pid;
        this.proc = Path.of("/proc", Integer.toString(pid));
        readMaps();
    }

    /** Symbols of process {@code pid}, its memory map read now; a vanished process gives bare addresses. */
    public static ProcessSymbols of(int pid) {
        return new ProcessSymbols(pid);
    }

    public int pid() {
        return pid;
    }

    /** Why this process's addresses cannot be named (its map could not be read), or empty. */
    public synchronized Optional<String> unavailable() {
        return Optional.ofNullable(unavailable);
    }

    /** A name for the user-space instruction at {@code address}; see the class comment for the forms. */
    public synchronized String resolve(long address) {
        Mapping mapping = mappingAt(address);
        if (mapping == null) {
            return SortedAddresses.hex(address);
        }
        if (mapping.name().equals("[vdso]")) {
            long offset = address - mapping.start();
            String function = Vdso.matching(mapping.end() - mapping.start())
                    .map(vdso -> vdso.function(offset)).orElse(null);
            return function != null ? function + " ([vdso])" : "[vdso]+" + SortedAddresses.hex(offset);
        }
        if (!mapping.isFile()) {
            String jit = mapping.isAnonymousCode() ? jitName(address) : null;
            return jit != null ? jit + " (jit)" : SortedAddresses.hex(address) + " (" + kind(mapping) + ")";
        }
        long fileOffset = address - mapping.start() + mapping.offset();
        Optional<ElfSymbols> elf = symbols(mapping);
        String function = elf.map(symbols -> symbols.function(fileOffset)).orElse(null);
        if (function != null) {
            return function + " (" + mapping.fileName() + ")";
        }
        String buildId = elf.map(symbols -> symbols.buildId).orElse(null);
        return mapping.fileName() + "+" + SortedAddresses.hex(fileOffset)
                + (buildId != null ? " (build-id " + buildId + ")" : "");
    }

    /**
     * Whether {@code address} lies in executable memory of the process: where an instruction can
     * be. A frame-pointer walk through code built without frame pointers goes on with whatever
     * the stack held, and its first frame outside code marks where the stack stops being true.
     */
    public synchronized boolean isCode(long address) {
        Mapping mapping = mappingAt(address);
        return mapping != null && mapping.executable();
    }

    /** Whether {@code address} is in anonymous executable memory: JIT-compiled code. */
    public synchronized boolean isJit(long address) {
        Mapping mapping = mappingAt(address);
        return mapping != null && mapping.isAnonymousCode();
    }

    /** Whether {@code address} is JIT-compiled code that no perf map of the process names (yet). */
    public synchronized boolean isUnnamedJit(long address) {
        return isJit(address) && jitName(address) == null;
    }

    /** Grows each time the names of JIT code change, so that stacks named before can be named again. */
    public synchronized long jitNamesVersion() {
        return perfMap != null ? perfMap.version() : 0;
    }

    /** Whether the process runs a HotSpot JVM: it maps {@code libjvm.so}. */
    public synchronized boolean isHotSpot() {
        return hotSpot;
    }

    /**
     * Tries to get names for the JIT code at {@code unnamed}: reads the perf map again if it
     * changed, or else, for a HotSpot JVM, asks {@code writer} for a new one when an ask is due
     * (see {@link PerfMapFile}) and waits up to {@code wait} for it. An ask that takes longer goes
     * on, and its map is read at a later call. Returns whether the names changed: stacks named
     * before should be named again. Never throws for a process that cannot be asked;
     * {@link #jitNamesUnavailable} then says why.
     */
    public boolean updateJitNames(long[] unnamed, PerfMapWriter writer, Duration wait) {
        CompletableFuture<Void> ask;
        long before;
        synchronized (this) {
            PerfMapFile map = perfMap();
            if (map == null) {
                return false;
            }
            if (map.refresh()) {
                return true;
            }
            if (!hotSpot) {
                return false;
            }
            ask = map.ask(pid, writer, unnamed);
            if (ask == null) {
                return false;
            }
            before = map.version();
        }
        try {
            // Outside the lock: another thread may name this process's other frames meanwhile.
            ask.get(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException | CancellationException e) {
            // settled below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        synchronized (this) {
            perfMap.settleAsk();
            return perfMap.version() != before;
        }
    }

    /** Why JIT code of this process will stay unnamed: it could not be asked for a perf map; empty otherwise. */
    public synchronized Optional<String> jitNamesUnavailable() {
        return perfMap != null ? perfMap.refusal() : Optional.empty();
    }

    private String jitName(long address) {
        PerfMapFile map = perfMap();
        return map != null ? map.resolve(address) : null;
    }

    private PerfMapFile perfMap() {
        if (!perfMapLooked) {
            perfMapLooked = true;
            perfMap = PerfMapFile.of(proc).orElse(null);
        }
        return perfMap;
    }

    /** The mapping that holds {@code address}, reading the map again if it may be stale; null if none. */
    private Mapping mappingAt(long address) {
        Mapping mapping = find(address);
        if (mapping == null && System.nanoTime() - readAt > REFRESH_NANOS) {
            readMaps();
            mapping = find(address);
        }
        return mapping;
    }

    private static String kind(Mapping mapping) {
        String name = mapping.name();
        if (name.isEmpty()) {
            return mapping.executable() ? "jit" : "anon";
        }
        // [heap], [stack], [anon:libc_malloc], [vsyscall], ...
        return name.startsWith("[") && name.endsWith("]") ? name.substring(1, name.length() - 1) : name;
    }

    private Mapping find(long address) {
        int low = 0;
        int high = mappings.size() - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            Mapping mapping = mappings.get(middle);
            if (Long.compareUnsigned(address, mapping.start()) < 0) {
                high = middle - 1;
            } else if (Long.compareUnsigned(address, mapping.end()) >= 0) {
                low = middle + 1;
            } else {
                return mapping;
            }
        }
        return null;
    }

    private void readMaps() {
        readAt = System.nanoTime();
        try {
            mappings = Mapping.parse(Files.readString(proc.resolve("maps")));
            hotSpot = mappings.stream().anyMatch(mapping -> mapping.isFile() && mapping.fileName().equals("libjvm.so"));
            unavailable = null;
        } catch (IOException e) {
            if (mappings == null) {
                mappings = List.of();
                unavailable = "cannot read the memory map of process " + pid + " (" + e.getMessage() + ")";
            }
        }
    }

    /** The symbols of a mapped file, found once per file and process, then shared through {@link ElfCache}. */
    private Optional<ElfSymbols> symbols(Mapping mapping) {
        String key = mapping.name() + '\0' + mapping.inode() + '\0' + mapping.deleted();
        Optional<ElfSymbols> known = files.get(key);
        if (known == null) {
            known = open(mapping);
            files.put(key, known);
        }
        return known;
    }

    /**
     * Finds the bytes the process mapped. Through {@code /proc/PID/root} first, so a container's
     * {@code /usr/lib} is its own; an inode differing from the map's is accepted there, since
     * overlayfs showed the lower layer's inode in maps before Linux 6.8, and a file replaced by
     * rename shows as deleted instead. Then {@code map_files}, the mapped inode itself, which
     * needs CAP_SYS_ADMIN and is the only way to a deleted file. Last the plain path, for a
     * process that has exited, only if the inode still matches.
     */
    private Optional<ElfSymbols> open(Mapping mapping) {
        Path root = proc.resolve("root");
        String relative = mapping.name().substring(1);
        if (!mapping.deleted()) {
            Optional<ElfSymbols> symbols = read(root.resolve(relative), root, mapping, false);
            if (symbols != null) {
                return symbols;
            }
        }
        Optional<ElfSymbols> symbols = read(proc.resolve("map_files").resolve(mapping.mapFilesName()), root,
                mapping, false);
        if (symbols == null && !mapping.deleted()) {
            symbols = read(Path.of(mapping.name()), Path.of("/"), mapping, true);
        }
        return symbols != null ? symbols : Optional.empty();
    }

    /** The file's symbols (empty when it is not ELF), or null when it cannot be opened as that file. */
    private static Optional<ElfSymbols> read(Path path, Path root, Mapping mapping, boolean sameInode) {
        try {
            ElfCache.Identity identity = ElfCache.identify(path);
            if (sameInode && identity.inode() != mapping.inode()) {
                return null;
            }
            return ElfCache.get(path, identity, root);
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    @Override
    public synchronized String toString() {
        return "ProcessSymbols[pid " + pid + ", " + (unavailable != null ? unavailable
                : mappings.size() + " mappings, " + files.size() + " files read") + "]";
    }
}
