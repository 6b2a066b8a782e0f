package dev.eventloopguardian.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * This JVM's open descriptors, from {@code /proc/self/fd}: for tests that check the library
 * closes what it opened, once, and nothing of anyone else's.
 */
public final class OpenDescriptors {
    private static final Path SELF = Path.of("/proc/self/fd");

    private OpenDescriptors() {
    }

    /** What each open descriptor refers to: "anon_inode:bpf-map", "anon_inode:[perf_event]", a path... */
    public static List<String> targets() {
        List<String> targets = new ArrayList<>();
        try (Stream<Path> fds = Files.list(SELF)) {
            for (Path fd : fds.toList()) {
                target(fd).ifPresent(targets::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + SELF, e);
        }
        return targets;
    }

    /** What descriptor {@code fd} refers to; empty when it is not open. */
    public static Optional<String> target(int fd) {
        return target(SELF.resolve(Integer.toString(fd)));
    }

    /** The descriptors in {@code after} that were not in {@code before}, counting alike ones one by one. */
    public static List<String> added(List<String> before, List<String> after) {
        List<String> added = new ArrayList<>(after);
        before.forEach(added::remove);
        return added;
    }

    private static Optional<String> target(Path fd) {
        try {
            return Optional.of(Files.readSymbolicLink(fd).toString());
        } catch (IOException closed) {
            return Optional.empty(); // the listing's own descriptor, or one closed since
        }
    }
}
