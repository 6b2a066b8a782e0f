package dev.eventloopguardian.symbols;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One line of {@code /proc/PID/maps}. {@code name} is what the kernel prints after the inode:
 * a path (with {@code " (deleted)"} cut off and recorded in {@code deleted}), a pseudo-name such
 * as {@code [vdso]}, {@code [heap]} or {@code [anon:libc_malloc]}, or empty for anonymous memory.
 */
record Mapping(long start, long end, boolean executable, long offset, int deviceMajor, int deviceMinor, long inode,
               String name, boolean deleted) {
    private static final String DELETED = " (deleted)";

    boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }

    /** Mapped from a file (a path; memfd and shared memory included), not anonymous or a pseudo-name. */
    boolean isFile() {
        return name.startsWith("/");
    }

    /**
     * Executable memory not mapped from a file: where JIT compilers put their code. Unnamed, or
     * named by the process with {@code prctl(PR_SET_VMA_ANON_NAME)}, shown as {@code [anon:NAME]}.
     */
    boolean isAnonymousCode() {
        return executable && (name.isEmpty() || name.startsWith("[anon:"));
    }

    String fileName() {
        int slash = name.lastIndexOf('/');
        return slash >= 0 ? name.substring(slash + 1) : name;
    }

    /** The link in {@code /proc/PID/map_files/} that opens exactly the mapped file, even a deleted one. */
    String mapFilesName() {
        return Long.toHexString(start) + "-" + Long.toHexString(end);
    }

    /** Parses the whole of {@code /proc/PID/maps}, sorted by start; unparsable lines are skipped. */
    static List<Mapping> parse(String maps) {
        List<Mapping> mappings = new ArrayList<>();
        for (String line : maps.split("\n")) {
            Mapping mapping = parseLine(line);
            if (mapping != null) {
                mappings.add(mapping);
            }
        }
        mappings.sort(Comparator.comparing(Mapping::start, Long::compareUnsigned));
        return mappings;
    }

    // "7f12a000-7f12b000 r-xp 00026000 fe:00 339380      /usr/lib/x86_64-linux-gnu/libc.so.6"
    static Mapping parseLine(String line) {
        try {
            int dash = line.indexOf('-');
            int space1 = line.indexOf(' ', dash);
            int space2 = line.indexOf(' ', space1 + 1);
            int space3 = line.indexOf(' ', space2 + 1);
            int space4 = line.indexOf(' ', space3 + 1);
            int inodeEnd = line.indexOf(' ', space4 + 1);
            if (dash <= 0 || space1 < 0 || space2 < 0 || space3 < 0 || space4 < 0) {
                return null;
            }
            String permissions = line.substring(space1 + 1, space2);
            String device = line.substring(space3 + 1, space4);
            int colon = device.indexOf(':');
            // The name starts after the padding that follows the inode; a path may contain spaces.
            int nameStart = inodeEnd < 0 ? line.length() : inodeEnd;
            while (nameStart < line.length() && line.charAt(nameStart) == ' ') {
                nameStart++;
            }
            String name = line.substring(nameStart);
            boolean deleted = name.startsWith("/") && name.endsWith(DELETED);
            return new Mapping(
                    Long.parseUnsignedLong(line, 0, dash, 16),
                    Long.parseUnsignedLong(line, dash + 1, space1, 16),
                    permissions.length() > 2 && permissions.charAt(2) == 'x',
                    Long.parseUnsignedLong(line, space2 + 1, space3, 16),
                    Integer.parseInt(device, 0, colon, 16),
                    Integer.parseInt(device, colon + 1, device.length(), 16),
                    Long.parseLong(line, space4 + 1, inodeEnd < 0 ? line.length() : inodeEnd, 10),
                    deleted ? name.substring(0, name.length() - DELETED.length()) : name,
                    deleted);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
