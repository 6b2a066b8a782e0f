package dev.eventloopguardian.symbols;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * The names a JIT compiler gave its code, from a perf map: the text that Linux perf reads from
 * {@code /tmp/perf-PID.map}, one {@code START SIZE NAME} line per piece of code, the numbers in hex
 * with or without {@code 0x}. HotSpot's {@code Compiler.perfmap} writes
 * {@code 0x00007f25ebf35880 0x0000000000000078 long Hot.work(long)}; the name runs to the end of
 * the line and may hold spaces.
 *
 * <p>A writer that appends as it compiles (Node's {@code --perf-basic-prof}, perf-map-agent)
 * lists an address again once the code there was freed and other code took its place: where lines
 * overlap, the later one wins. Lines that do not parse are skipped, and so is a last line without
 * its newline (a writer still at it). Names stay in one byte array, decoded only for the
 * addresses asked about. Immutable.
 */
final class PerfMap {
    static final PerfMap EMPTY = new PerfMap(new long[0], new long[0], new long[0], new int[0], new int[0], new byte[0], 0);

    /** Disjoint address ranges, sorted: each is a piece of code, or the part of one no later line covers. */
    private final long[] starts;
    private final long[] ends;
    /** Where the code of each range starts: offsets in a name count from there, not from the range. */
    private final long[] codeStarts;
    private final int[] nameStarts;
    private final int[] nameEnds;
    private final byte[] names;
    private final int count;

    private PerfMap(long[] starts, long[] ends, long[] codeStarts, int[] nameStarts, int[] nameEnds, byte[] names,
                    int count) {
        this.starts = starts;
        this.ends = ends;
        this.codeStarts = codeStarts;
        this.nameStarts = nameStarts;
        this.nameEnds = nameEnds;
        this.names = names;
        this.count = count;
    }

    /** {@code name+0xoffset} for the code at {@code address}, or null when no line covers it. */
    String resolve(long address) {
        int index = SortedAddresses.floor(starts, count, address);
        if (index < 0 || Long.compareUnsigned(address, ends[index]) >= 0) {
            return null;
        }
        return new String(names, nameStarts[index], nameEnds[index] - nameStarts[index], StandardCharsets.UTF_8)
                + "+" + SortedAddresses.hex(address - codeStarts[index]);
    }

    /** The number of disjoint ranges named: the lines, less those that later ones cover entirely. */
    int size() {
        return count;
    }

    /**
     * Parses the lines in {@code text[from, to)}; with {@code midLine}, {@code from} may fall inside
     * a line (the text is the tail of a bigger file), and the text up to the first newline is skipped.
     */
    static PerfMap parse(byte[] text, int from, int to, boolean midLine) {
        Lines lines = new Lines();
        int at = from;
        if (midLine) {
            while (at < to && text[at++] != '\n') {
                // the rest of a line whose start was not read
            }
        }
        while (at < to) {
            int end = at;
            while (end < to && text[end] != '\n') {
                end++;
            }
            if (end == to) {
                break; // no newline yet: the writer may be in the middle of this line
            }
            lines.parse(text, at, end);
            at = end + 1;
        }
        return lines.count == 0 ? EMPTY : lines.build(text);
    }

    /** The lines that parsed, in the file's order: a line's index is its age, the last the newest. */
    private static final class Lines {
        long[] starts = new long[256];
        long[] ends = new long[256];
        int[] nameStarts = new int[256];
        int[] nameEnds = new int[256];
        int count;

        /** Parses {@code START SIZE NAME} from {@code text[at, end)}; a malformed line is skipped. */
        void parse(byte[] text, int at, int end) {
            if (end > at && text[end - 1] == '\r') {
                end--;
            }
            int startEnd = hexEnd(text, at, end);
            if (startEnd < 0 || startEnd >= end || text[startEnd] != ' ') {
                return;
            }
            int sizeEnd = hexEnd(text, startEnd + 1, end);
            if (sizeEnd < 0 || sizeEnd >= end || text[sizeEnd] != ' ' || sizeEnd + 1 == end) {
                return;
            }
            long start = hex(text, at, startEnd);
            long size = hex(text, startEnd + 1, sizeEnd);
            long codeEnd = start + size;
            // Empty code names nothing; code that would wrap past the top of memory is a broken line.
            if (size == 0 || Long.compareUnsigned(codeEnd, start) <= 0) {
                return;
            }
            if (count == starts.length) {
                int capacity = count * 2;
                starts = Arrays.copyOf(starts, capacity);
                ends = Arrays.copyOf(ends, capacity);
                nameStarts = Arrays.copyOf(nameStarts, capacity);
                nameEnds = Arrays.copyOf(nameEnds, capacity);
            }
            starts[count] = start;
            ends[count] = codeEnd;
            nameStarts[count] = sizeEnd + 1;
            nameEnds[count] = end;
            count++;
        }

        /** Where a hex number of 1 to 16 digits (after an optional {@code 0x}) that starts at {@code at} ends, or -1. */
        private static int hexEnd(byte[] text, int at, int end) {
            if (at + 1 < end && text[at] == '0' && (text[at + 1] == 'x' || text[at + 1] == 'X')) {
                at += 2;
            }
            int digits = 0;
            while (at + digits < end && Character.digit(text[at + digits], 16) >= 0) {
                digits++;
            }
            return digits == 0 || digits > 16 ? -1 : at + digits;
        }

        private static long hex(byte[] text, int at, int end) {
            if (text[at] == '0' && end - at > 1 && (text[at + 1] == 'x' || text[at + 1] == 'X')) {
                at += 2;
            }
            long value = 0;
            for (int i = at; i < end; i++) {
                value = value << 4 | Character.digit(text[i], 16);
            }
            return value;
        }

        PerfMap build(byte[] text) {
            int[] order = new int[count];
            for (int i = 0; i < count; i++) {
                order[i] = i;
            }
            long[] sortedStarts = Arrays.copyOf(starts, count);
            // Stable: of lines that start at one address, the older stays first.
            SortedAddresses.sort(sortedStarts, order, count);
            Ranges ranges = disjoint(sortedStarts, order) ? Ranges.of(sortedStarts, order, ends) : newestOnTop(sortedStarts, order);
            return ranges.named(this, text);
        }

        private boolean disjoint(long[] sortedStarts, int[] order) {
            for (int i = 1; i < count; i++) {
                if (Long.compareUnsigned(ends[order[i - 1]], sortedStarts[i]) > 0) {
                    return false;
                }
            }
            return true;
        }

        /**
         * Cuts overlapping lines into disjoint ranges, each named by the newest line that covers it.
         * A sweep over every start and end: at each, the newest line still open owns the range up to
         * the next (a heap of open lines, newest first, whose ended ones are dropped when they
         * surface). Only maps with overlaps pay for it.
         */
        private Ranges newestOnTop(long[] sortedStarts, int[] order) {
            long[] bounds = new long[count * 2];
            System.arraycopy(sortedStarts, 0, bounds, 0, count);
            System.arraycopy(ends, 0, bounds, count, count);
            SortedAddresses.sort(bounds, new int[bounds.length], bounds.length);
            Ranges ranges = new Ranges(count);
            PriorityQueue<Integer> open = new PriorityQueue<>(Math.max(1, count), (a, b) -> Integer.compare(b, a));
            int next = 0;
            for (int b = 0; b + 1 < bounds.length; b++) {
                long bound = bounds[b];
                if (bound == bounds[b + 1]) {
                    continue;
                }
                while (next < count && Long.compareUnsigned(sortedStarts[next], bound) <= 0) {
                    open.add(order[next++]);
                }
                while (!open.isEmpty() && Long.compareUnsigned(ends[open.peek()], bound) <= 0) {
                    open.poll();
                }
                if (!open.isEmpty()) {
                    ranges.add(bound, bounds[b + 1], open.peek());
                }
            }
            return ranges;
        }
    }

    /** Disjoint ranges in address order, each with the line that names it. */
    private static final class Ranges {
        long[] starts;
        long[] ends;
        int[] lines;
        int count;

        Ranges(int capacity) {
            starts = new long[capacity];
            ends = new long[capacity];
            lines = new int[capacity];
        }

        static Ranges of(long[] sortedStarts, int[] order, long[] lineEnds) {
            Ranges ranges = new Ranges(order.length);
            for (int i = 0; i < order.length; i++) {
                ranges.add(sortedStarts[i], lineEnds[order[i]], order[i]);
            }
            return ranges;
        }

        void add(long start, long end, int line) {
            if (count > 0 && lines[count - 1] == line && ends[count - 1] == start) {
                ends[count - 1] = end; // one line's code, cut only at bounds that did not change its owner
                return;
            }
            if (count == starts.length) {
                int capacity = Math.max(16, count * 2);
                starts = Arrays.copyOf(starts, capacity);
                ends = Arrays.copyOf(ends, capacity);
                lines = Arrays.copyOf(lines, capacity);
            }
            starts[count] = start;
            ends[count] = end;
            lines[count] = line;
            count++;
        }

        /** The map, keeping the names of the lines that own a range and nothing of the others. */
        PerfMap named(Lines parsed, byte[] text) {
            int[] copiedAt = new int[parsed.count];
            Arrays.fill(copiedAt, -1);
            int bytes = 0;
            for (int i = 0; i < count; i++) {
                int line = lines[i];
                if (copiedAt[line] < 0) {
                    copiedAt[line] = 0;
                    bytes += parsed.nameEnds[line] - parsed.nameStarts[line];
                }
            }
            byte[] names = new byte[bytes];
            Arrays.fill(copiedAt, -1);
            int[] nameStarts = new int[count];
            int[] nameEnds = new int[count];
            long[] codeStarts = new long[count];
            int used = 0;
            for (int i = 0; i < count; i++) {
                int line = lines[i];
                int length = parsed.nameEnds[line] - parsed.nameStarts[line];
                if (copiedAt[line] < 0) {
                    System.arraycopy(text, parsed.nameStarts[line], names, used, length);
                    copiedAt[line] = used;
                    used += length;
                }
                nameStarts[i] = copiedAt[line];
                nameEnds[i] = copiedAt[line] + length;
                codeStarts[i] = parsed.starts[line];
            }
            return new PerfMap(Arrays.copyOf(starts, count), Arrays.copyOf(ends, count), codeStarts, nameStarts, nameEnds,
                    names, count);
        }
    }
}
