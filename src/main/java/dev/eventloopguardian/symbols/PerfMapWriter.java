package dev.eventloopguardian.symbols;

import java.util.concurrent.CompletableFuture;

/**
 * Gets a process to write its perf map, {@code /tmp/perf-PID.map} in its own file system, so
 * that its JIT-compiled code can be named ({@link ProcessSymbols#updateJitNames}).
 * {@link HotSpotPerfMaps} asks a HotSpot JVM through the Attach API; a caller that must not
 * touch the processes it names gives one that refuses.
 */
@FunctionalInterface
public interface PerfMapWriter {
    /**
     * Starts asking process {@code pid} to write its perf map, without blocking. The future
     * completes once the process says it wrote it, or fails with why it cannot be asked; such a
     * process is not asked again.
     */
    CompletableFuture<Void> write(int pid);

    /** A writer that asks nobody: JIT code is named only from the perf maps that already exist. */
    static PerfMapWriter refusing(String why) {
        return pid -> CompletableFuture.failedFuture(new UnsupportedOperationException(why));
    }
}
