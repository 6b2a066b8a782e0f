package dev.eventloopguardian.guard;

import dev.eventloopguardian.text.Suggestions;

import dev.eventloopguardian.sys.Arch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * The syscall numbers of one CPU architecture, as the kernel's own table has them
 * ({@code syscalls-<arch>.txt} beside this class says which kernel and where each number was
 * checked). Policies name syscalls; the guard program compares numbers.
 */
public final class SyscallTable {
    /** What people paste from stack traces, kallsyms and headers in front of a syscall name. */
    private static final List<String> KERNEL_PREFIXES =
            List.of("__x64_sys_", "__arm64_sys_", "__se_sys_", "__do_sys_", "__nr_", "sys_");

    private final Arch arch;
    private final String[] byNumber;
    private final Map<String, Integer> byName;

    private SyscallTable(Arch arch, String[] byNumber, Map<String, Integer> byName) {
        this.arch = arch;
        this.byNumber = byNumber;
        this.byName = byName;
    }

    // One holder per arch: the JVM loads each table at first use, once, without locks, and a
    // launch never parses the table of the other arch.
    private static final class X86 {
        static final SyscallTable TABLE = load(Arch.X86_64);
    }

    private static final class Arm64 {
        static final SyscallTable TABLE = load(Arch.AARCH64);
    }

    public static SyscallTable of(Arch arch) {
        return switch (arch) {
            case X86_64 -> X86.TABLE;
            case AARCH64 -> Arm64.TABLE;
        };
    }

    public Arch arch() {
        return arch;
    }

    /** The number of the syscall named exactly {@code name} (kernel spelling, lower case). */
    public OptionalInt number(String name) {
        Integer number = byName.get(name);
        return number == null ? OptionalInt.empty() : OptionalInt.of(number);
    }

    /** The syscall with this number; empty for unassigned numbers and for -1 (not in a syscall). */
    public Optional<String> name(int number) {
        return number >= 0 && number < byNumber.length ? Optional.ofNullable(byNumber[number]) : Optional.empty();
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /**
     * Names to suggest for one this arch does not have, best first: typos ({@code futx}),
     * missing underscores ({@code epollwait}), kernel symbol prefixes ({@code __x64_sys_futex}),
     * and part names ({@code sleep}: {@code nanosleep}, {@code clock_nanosleep}).
     */
    public List<String> closest(String unknown, int max) {
        String query = unknown.strip().toLowerCase(Locale.ROOT);
        for (String prefix : KERNEL_PREFIXES) {
            if (query.startsWith(prefix) && query.length() > prefix.length()) {
                query = query.substring(prefix.length());
                break;
            }
        }
        return Suggestions.closest(query, byName.keySet(), max);
    }

    /** All names, in name order. */
    public Set<String> names() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(byName.keySet()));
    }

    @Override
    public String toString() {
        return "SyscallTable[" + arch.kernelName() + ", " + byName.size() + " syscalls]";
    }

    private static SyscallTable load(Arch arch) {
        String resource = "syscalls-" + arch.kernelName() + ".txt";
        try (InputStream in = SyscallTable.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource + " beside " + SyscallTable.class.getName());
            }
            return parse(arch, resource, new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    // Plain indexOf and parseInt: this runs on the launch path, before the guarded command
    // starts, where regex and stream set-up would show up in the start-up time.
    static SyscallTable parse(Arch arch, String source, String text) {
        String[] byNumber = new String[512];
        Map<String, Integer> byName = new HashMap<>(1024);
        int highest = -1;
        int lineNumber = 0;
        for (int start = 0, end; start < text.length(); start = end + 1) {
            lineNumber++;
            end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            if (end == start || text.charAt(start) == '#') {
                continue;
            }
            int space = text.indexOf(' ', start);
            if (space < 0 || space >= end - 1) {
                throw malformed(source, lineNumber, "expected NUMBER NAME");
            }
            int number;
            try {
                number = Integer.parseInt(text, start, space, 10);
            } catch (NumberFormatException e) {
                throw malformed(source, lineNumber, "bad number");
            }
            String name = text.substring(space + 1, end);
            if (number < 0 || name.indexOf(' ') >= 0 || name.indexOf('\r') >= 0) {
                throw malformed(source, lineNumber, "expected NUMBER NAME");
            }
            if (number >= byNumber.length) {
                byNumber = Arrays.copyOf(byNumber, Math.max(number + 1, byNumber.length * 2));
            }
            if (byNumber[number] != null) {
                throw malformed(source, lineNumber, "number " + number + " is already " + byNumber[number]);
            }
            if (byName.putIfAbsent(name, number) != null) {
                throw malformed(source, lineNumber, name + " is already number " + byName.get(name));
            }
            byNumber[number] = name;
            highest = Math.max(highest, number);
        }
        return new SyscallTable(arch, Arrays.copyOf(byNumber, highest + 1), byName);
    }

    private static IllegalStateException malformed(String source, int line, String why) {
        return new IllegalStateException(source + ":" + line + ": " + why);
    }
}
