package dev.eventloopguardian.testing;

import dev.eventloopguardian.bpf.BpfException;
import dev.eventloopguardian.bpf.ObjectIds;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The eBPF programs, maps and perf events one process holds descriptors for, read from
 * {@code /proc/PID/fd} and {@code /proc/PID/fdinfo}: a way to know which kernel objects were
 * the guardian's without counting the machine's, where other processes load their own.
 */
public record HeldObjects(Set<Integer> programIds, Set<Integer> mapIds, int perfEvents) {
    private static final Duration FREED = Duration.ofSeconds(10);

    public static HeldObjects of(long pid) {
        Set<Integer> programs = new TreeSet<>();
        Set<Integer> maps = new TreeSet<>();
        int perfEvents = 0;
        Path proc = Path.of("/proc", Long.toString(pid));
        try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals("anon_inode:[perf_event]")) {
                        perfEvents++;
                    }
                    for (String line : Files.readAllLines(proc.resolve("fdinfo").resolve(fd.getFileName()))) {
                        idAfter("prog_id:", line, programs);
                        idAfter("map_id:", line, maps);
                    }
                } catch (IOException closed) {
                    // Closed since the listing (a file the JVM read meanwhile): ENOENT at open or,
                    // for fdinfo, at read. The guard's descriptors stay open while it runs.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the descriptors of pid " + pid, e);
        }
        return new HeldObjects(programs, maps, perfEvents);
    }

    private static void idAfter(String key, String line, Set<Integer> ids) {
        if (line.startsWith(key)) {
            ids.add(Integer.parseInt(line.substring(key.length()).strip()));
        }
    }

    /** These and {@code other}'s, together. */
    public HeldObjects and(HeldObjects other) {
        Set<Integer> programs = new TreeSet<>(programIds);
        programs.addAll(other.programIds);
        Set<Integer> maps = new TreeSet<>(mapIds);
        maps.addAll(other.mapIds);
        return new HeldObjects(programs, maps, perfEvents + other.perfEvents);
    }

    /**
     * The objects the kernel still holds after waiting up to 10 s for it to free them (it does
     * so asynchronously, after an RCU grace period), e.g. {@code [prog 196, map 89]}; empty when
     * all are gone. A perf event holds its program, so a perf event left behind keeps its
     * program's id alive and shows here too.
     */
    public List<String> stillInTheKernel() throws BpfException, InterruptedException {
        long deadline = System.nanoTime() + FREED.toNanos();
        while (true) {
            List<String> left = new ArrayList<>();
            for (int id : programIds) {
                if (ObjectIds.programExists(id)) {
                    left.add("prog " + id);
                }
            }
            for (int id : mapIds) {
                if (ObjectIds.mapExists(id)) {
                    left.add("map " + id);
                }
            }
            if (left.isEmpty() || System.nanoTime() > deadline) {
                return left;
            }
            Thread.sleep(50);
        }
    }
}
