package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * What {@code /proc/PID/status} says about a process that finding and asking for its perf map
 * needs: its pid as it sees it (the last of {@code NSpid}, its innermost pid namespace: a JVM in
 * a container names its files after that one), its uids (real, effective, saved, file system) and
 * the signals it catches ({@code SigCgt}).
 */
record ProcessStatus(String namespacePid, Set<Integer> uids, long caughtSignals) {
    /** The status of the process at {@code proc} ({@code /proc/PID}), or empty when it is gone. */
    static Optional<ProcessStatus> read(Path proc) {
        try {
            return Optional.of(parse(Files.readString(proc.resolve("status")), proc.getFileName().toString()));
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** Parses {@code status}, the text of the status file of process {@code pid}. */
    static ProcessStatus parse(String status, String pid) {
        String namespacePid = pid;
        Set<Integer> uids = new HashSet<>();
        long caughtSignals = 0;
        for (String line : status.split("\n")) {
            String[] words = line.strip().split("\\s+");
            switch (words[0]) {
                case "NSpid:" -> {
                    // Absent before Linux 4.1: the process then sees the pid we see.
                    if (words.length > 1 && words[words.length - 1].matches("[0-9]+")) {
                        namespacePid = words[words.length - 1];
                    }
                }
                case "Uid:" -> {
                    for (int i = 1; i < words.length; i++) {
                        if (words[i].matches("[0-9]{1,10}")) {
                            // As the file system reports it: a uid above 2^31 is a negative int.
                            uids.add((int) Long.parseLong(words[i]));
                        }
                    }
                }
                case "SigCgt:" -> {
                    if (words.length == 2 && words[1].matches("\\p{XDigit}{1,16}")) {
                        caughtSignals = Long.parseUnsignedLong(words[1], 16);
                    }
                }
                default -> {
                }
            }
        }
        return new ProcessStatus(namespacePid, Set.copyOf(uids), caughtSignals);
    }

    /** Whether the process catches signal {@code number} (1 to 64). */
    boolean catches(int number) {
        return (caughtSignals >>> (number - 1) & 1) != 0;
    }
}
