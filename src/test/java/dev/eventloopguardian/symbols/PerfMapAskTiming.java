package dev.eventloopguardian.symbols;

import dev.eventloopguardian.testing.JitCompiledBlocking;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What asking a JVM for its perf map costs, the asker's wait and the JVM's CPU: a main, not a
 * test, so that timing never makes the build flaky. Run it as the launcher runs the guardian:
 * {@code java --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED -XX:TieredStopAtLevel=1
 * -XX:+UseSerialGC -cp target/classes:target/test-classes dev.eventloopguardian.symbols.PerfMapAskTiming [PID [ASKS]]}.
 * Without a pid it starts a warmed-up {@link JitCompiledBlocking}; the JVM should be idle, as its
 * CPU across an ask (the sum of its threads' {@code schedstat}) is taken for the ask's.
 */
public final class PerfMapAskTiming {
    private PerfMapAskTiming() {
    }

    public static void main(String[] args) throws Exception {
        Process started = null;
        long pid;
        if (args.length > 0) {
            pid = Long.parseLong(args[0]);
        } else {
            started = new ProcessBuilder(JitCompiledBlocking.command("waiter", "1", "600000"))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            new BufferedReader(new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8)).readLine();
            pid = started.pid();
        }
        int asks = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        Path proc = Path.of("/proc", Long.toString(pid));
        Path map = proc.resolve("root/tmp/perf-" + ProcessStatus.read(proc).orElseThrow().namespacePid() + ".map");
        try (HotSpotPerfMaps perfMaps = new HotSpotPerfMaps()) {
            for (int ask = 0; ask < asks; ask++) {
                long cpuBefore = cpuNanos(pid);
                long start = System.nanoTime();
                perfMaps.write((int) pid).get(30, TimeUnit.SECONDS);
                long took = System.nanoTime() - start;
                Thread.sleep(200); // the JVM's CPU counters catch up
                System.out.printf("ask %d: %.1f ms; the JVM's CPU %.1f ms; its map %d lines, %d KB%n", ask, took / 1e6,
                        (cpuNanos(pid) - cpuBefore) / 1e6, Files.readAllLines(map).size(), Files.size(map) / 1024);
                Thread.sleep(1_000);
            }
        } finally {
            if (started != null) {
                started.destroyForcibly();
                started.waitFor();
                Files.deleteIfExists(Path.of("/tmp/perf-" + pid + ".map")); // closed while it ran: ours to remove
            }
        }
    }

    /** The CPU time of all the process's threads, from their {@code schedstat}. */
    private static long cpuNanos(long pid) throws IOException {
        long sum = 0;
        try (Stream<Path> threads = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path thread : (Iterable<Path>) threads::iterator) {
                try {
                    sum += Long.parseLong(Files.readString(thread.resolve("schedstat")).split(" ")[0]);
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return sum;
    }
}
