package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The functions of one ELF file, sorted by address ({@code st_value}, in the file's own address
 * space), one per address. Names stay in a copy of the string tables and are decoded only for the
 * addresses asked about: libjvm.so has 53k functions, and a report names a few dozen.
 */
final class FunctionTable {
    static final FunctionTable EMPTY = new FunctionTable(new long[0], new int[0], new int[0], new byte[0], 0);

    private static final int SYMBOL_SIZE = 24;
    private static final int STT_FUNC = 2;
    private static final int STT_GNU_IFUNC = 10;
    private static final int STB_GLOBAL = 1;
    private static final int STB_WEAK = 2;
    private static final int NESTING = 8;
    private static final int CHUNK = 64;

    private final long[] starts;
    private final int[] sizes;
    private final int[] names;
    private final byte[] strings;
    private final int count;

    private FunctionTable(long[] starts, int[] sizes, int[] names, byte[] strings, int count) {
        this.starts = starts;
        this.sizes = sizes;
        this.names = names;
        this.strings = strings;
        this.count = count;
    }

    int size() {
        return count;
    }

    /** {@code name+0xoffset} for an address in the file's address space, or null outside every function. */
    String resolve(long vaddr) {
        int index = SortedAddresses.floor(starts, count, vaddr);
        if (index < 0) {
            return null;
        }
        // A symbol nested in a bigger one (a local label) may end before the address while the
        // enclosing function goes on; look back a little for it.
        for (int i = index; i >= 0 && i > index - NESTING; i--) {
            long offset = vaddr - starts[i];
            // A size of 0 is an assembly label whose extent nobody recorded: trust it up to the next one.
            boolean inside = sizes[i] == 0 ? i == index : Long.compareUnsigned(offset, sizes[i] & 0xffffffffL) < 0;
            if (inside) {
                return name(i) + "+" + SortedAddresses.hex(offset);
            }
        }
        return null;
    }

    /** The address of a function by exact name, for tests; a linear scan. */
    long address(String wanted) {
        for (int i = 0; i < count; i++) {
            if (name(i).equals(wanted)) {
                return starts[i];
            }
        }
        return -1;
    }

    /** The name of the function at {@code index} in address order, for tests. */
    String name(int index) {
        int start = names[index];
        int end = start;
        while (end < strings.length && strings[end] != 0) {
            end++;
        }
        return new String(strings, start, end - start, StandardCharsets.UTF_8);
    }

    /** Collects the functions of several symbol tables (.symtab, .dynsym, a debug file's .symtab). */
    static final class Builder {
        private final List<ByteBuffer> symbolTables = new ArrayList<>();
        private final List<ByteBuffer> stringTables = new ArrayList<>();

        /** Adds the functions of one symbol table, whose names are in {@code stringTable}. */
        Builder add(ByteBuffer symbols, ByteBuffer stringTable) {
            symbolTables.add(symbols);
            stringTables.add(stringTable);
            return this;
        }

        FunctionTable build() {
            int entries = 0;
            int stringBytes = 0;
            for (int t = 0; t < symbolTables.size(); t++) {
                entries += symbolTables.get(t).limit() / SYMBOL_SIZE;
                stringBytes = Math.addExact(stringBytes, stringTables.get(t).limit());
            }
            // All string tables go into one array, each name found by its offset in it.
            Scan scan = new Scan(entries, new byte[stringBytes]);
            int base = 0;
            for (int t = 0; t < symbolTables.size(); t++) {
                ByteBuffer symbols = symbolTables.get(t);
                ByteBuffer table = stringTables.get(t);
                table.get(0, scan.strings, base, table.limit());
                int end = symbols.limit() - SYMBOL_SIZE;
                // In chunks, so the JIT compiles the scan after a few thousand symbols; one loop over
                // all 70k of libjvm.so's would run interpreted until on-stack replacement, near the end.
                for (int at = SYMBOL_SIZE; at <= end; at += CHUNK * SYMBOL_SIZE) {
                    scan.symbols(symbols, at, Math.min(end, at + (CHUNK - 1) * SYMBOL_SIZE), base, table.limit());
                }
                base += table.limit();
            }
            return scan.count == 0 ? EMPTY : unique(scan.starts, scan.sizes, scan.names, scan.ranks, scan.strings,
                    scan.count);
        }

        /** The functions found so far. */
        private static final class Scan {
            final long[] starts;
            final int[] sizes;
            final int[] names;
            final int[] ranks;
            final byte[] strings;
            int count;

            Scan(int capacity, byte[] strings) {
                starts = new long[capacity];
                sizes = new int[capacity];
                names = new int[capacity];
                ranks = new int[capacity];
                this.strings = strings;
            }

            /** Reads the symbols at byte offsets {@code from..last} (inclusive) of one table. */
            void symbols(ByteBuffer symbols, int from, int last, int base, int tableLength) {
                for (int at = from; at <= last; at += SYMBOL_SIZE) {
                    int info = symbols.get(at + 4);
                    int type = info & 0xf;
                    if (type != STT_FUNC && type != STT_GNU_IFUNC) {
                        continue;
                    }
                    int section = symbols.getShort(at + 6);
                    long value = symbols.getLong(at + 8);
                    int name = symbols.getInt(at);
                    // Undefined (section 0) entries are imports: the code lives in another file.
                    if (section == 0 || value == 0 || name <= 0 || name >= tableLength) {
                        continue;
                    }
                    long size = symbols.getLong(at + 16);
                    starts[count] = value;
                    sizes[count] = (int) Math.min(size, 0xffffffffL);
                    names[count] = base + name;
                    ranks[count] = rank(info >>> 4 & 0xf, size, strings, base + name);
                    count++;
                }
            }
        }

        /** Sorts by address and keeps the best-ranked name of each address. */
        private static FunctionTable unique(long[] starts, int[] sizes, int[] names, int[] ranks, byte[] strings,
                                            int count) {
            int[] order = new int[count];
            for (int i = 0; i < count; i++) {
                order[i] = i;
            }
            long[] keys = Arrays.copyOf(starts, count);
            SortedAddresses.sort(keys, order, count);
            long[] uniqueStarts = new long[count];
            int[] uniqueSizes = new int[count];
            int[] uniqueNames = new int[count];
            int unique = 0;
            for (int i = 0; i < count; ) {
                int best = order[i];
                int j = i + 1;
                for (; j < count && keys[j] == keys[i]; j++) {
                    if (ranks[order[j]] < ranks[best]) {
                        best = order[j];
                    }
                }
                uniqueStarts[unique] = keys[i];
                uniqueSizes[unique] = sizes[best];
                uniqueNames[unique] = names[best];
                unique++;
                i = j;
            }
            return new FunctionTable(uniqueStarts, uniqueSizes, uniqueNames, strings, unique);
        }

        /**
         * Lower is the better of several names for one address. The name people call wins over its
         * internal aliases: {@code nanosleep} (weak) over {@code __nanosleep}, and
         * {@code clock_nanosleep} over glibc's local {@code __GI___clock_nanosleep}; then global
         * over weak over local; then a symbol with a size over a bare label.
         */
        private static int rank(int binding, long size, byte[] strings, int name) {
            int underscores = 0;
            while (name + underscores < strings.length && strings[name + underscores] == '_' && underscores < 15) {
                underscores++;
            }
            int bindingRank = binding == STB_GLOBAL ? 0 : binding == STB_WEAK ? 1 : 2;
            boolean internal = startsWith(strings, name + underscores, "GI_");
            return (size == 0 ? 1 << 10 : 0) | (internal ? 1 << 9 : 0) | underscores << 2 | bindingRank;
        }

        private static boolean startsWith(byte[] strings, int at, String prefix) {
            for (int i = 0; i < prefix.length(); i++) {
                if (at + i >= strings.length || strings[at + i] != prefix.charAt(i)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Reads the symbol table sections of a file into a builder; compressed or absent ones are skipped. */
    static void addSections(ElfReader elf, Builder builder, int sectionType) throws IOException {
        for (ElfReader.Section section : elf.sections) {
            if (section.type() != sectionType || section.compressed() || section.link() >= elf.sections.size()) {
                continue;
            }
            ElfReader.Section names = elf.sections.get(section.link());
            if (names.type() == ElfReader.SHT_NOBITS || names.compressed()) {
                continue;
            }
            builder.add(elf.bytes(section.offset(), section.size()), elf.bytes(names.offset(), names.size()));
        }
    }
}
