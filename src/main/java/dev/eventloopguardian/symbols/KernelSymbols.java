package dev.eventloopguardian.symbols;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Names for kernel instruction addresses, from {@code /proc/kallsyms}: {@code schedule+0x2c}, or
 * {@code nf_hook_slow+0x40 [nf_tables]} for a module. The file is read on first use, not when
 * this object is made: it has about 120k lines (5 MB) here, and the kernel alone spends about 45
 * ms formatting them, a page per read(2), so a report pays for it only when a kernel stack
 * actually needs a name. Instances may be shared between threads.
 *
 * <p>Addresses are resolved as given. Frames after the first in a stack are return addresses,
 * which is also what {@code /proc/PID/stack} prints, so the two agree.
 */
public final class KernelSymbols {
    public static final Path KALLSYMS = Path.of("/proc/kallsyms");

    private final Path path;
    private Table table;

    private KernelSymbols(Path path, Table table) {
        this.path = path;
        this.table = table;
    }

    /** The running kernel's symbols; nothing is read until the first question. */
    public static KernelSymbols kallsyms() {
        return new KernelSymbols(KALLSYMS, null);
    }

    /** Symbols from a file in the format of {@code /proc/kallsyms}, read on first use: for tests and saved copies. */
    static KernelSymbols read(Path file) {
        return new KernelSymbols(file, null);
    }

    /** Symbols from text in the format of {@code /proc/kallsyms}, for tests and saved copies. */
    static KernelSymbols parse(byte[] text, String source) {
        return new KernelSymbols(null, Table.parse(text, text.length, source));
    }

    /**
     * {@code function+0xoffset}, with {@code " [module]"} for a module's function; the address in
     * hex when no symbol precedes it or the kernel hides the addresses (see {@link #unavailable}).
     */
    public String resolve(long address) {
        return table().resolve(address);
    }

    /**
     * Why addresses cannot be named, such as kallsyms showing zeros to an unprivileged process,
     * or empty when they can. Reads kallsyms if it was not read yet.
     */
    public Optional<String> unavailable() {
        return Optional.ofNullable(table().unavailable);
    }

    /** The address of a symbol, by exact name, for tests and diagnostics; a linear scan. */
    Optional<Long> address(String name) {
        return table().address(name);
    }

    /** How many symbols were read (0 when they are unavailable). */
    public int size() {
        return table().count;
    }

    private synchronized Table table() {
        if (table == null) {
            table = Table.read(path);
        }
        return table;
    }

    @Override
    public String toString() {
        Table loaded;
        synchronized (this) {
            loaded = table;
        }
        return "KernelSymbols[" + (path != null ? path : "parsed") + ", "
                + (loaded == null ? "not read yet" : loaded.unavailable != null ? loaded.unavailable
                : loaded.count + " symbols") + "]";
    }

    /**
     * The parsed file: symbols sorted by address, and their names (with their module) as bytes,
     * decoded only when asked for. Parsing by hand over the bytes takes a few milliseconds where
     * {@code String.split} per line costs tens. The file is parsed as it is read, a page at a
     * time, and only each line's name is kept: the whole file (5 MB here, most of it the
     * addresses in hex) never sits in the heap, which a report session keeps small.
     *
     * <p>The names go into chunks of a fixed size, filled one after the other, rather than one
     * array grown as it fills: growing a 3 MB array step by step allocated four times its size,
     * and in a small heap every step outlived a young collection, so the old generation, and the
     * session's resident memory, kept all of it until a full collection that may never come.
     */
    private static final class Table {
        private static final int READ_SIZE = 8192;
        private static final long MAX_OFFSET = 1 << 20;
        /** A name's place: its chunk in the high bits, its offset in the chunk in the low ones. */
        private static final int CHUNK_BITS = 16;
        private static final int CHUNK_BYTES = 1 << CHUNK_BITS;
        private static final int OFFSET_MASK = CHUNK_BYTES - 1;
        /**
         * The padding before each function that kernels built with call-depth tracking or CFI
         * name {@code __pfx_FUNCTION}: no stack frame is ever in it, and it is half of kallsyms
         * here (57 821 of 122 102 lines), so it is not kept.
         */
        private static final byte[] PADDING_PREFIX = "__pfx_".getBytes(StandardCharsets.US_ASCII);
        final long[] addresses;
        /** Where each symbol's line starts in {@link #text}: {@code NAME\n} or {@code NAME\t[MODULE]\n}. */
        final int[] names;
        final byte[][] text;
        final int count;
        final String unavailable;

        private Table(long[] addresses, int[] names, byte[][] text, int count, String unavailable) {
            this.addresses = addresses;
            this.names = names;
            this.text = text;
            this.count = count;
            this.unavailable = unavailable;
        }

        static Table read(Path path) {
            Parser parser = new Parser();
            try (InputStream in = new FileInputStream(path.toFile())) {
                // procfs reports size 0, and the kernel hands out a page per read whatever we ask
                // for: asking for more only makes the JDK allocate a native buffer that big per call.
                // A line longer than the buffer's free space makes it grow.
                byte[] buffer = new byte[4 * READ_SIZE];
                int held = 0;
                for (int n; (n = in.read(buffer, held, Math.min(READ_SIZE, buffer.length - held))) > 0; ) {
                    held += n;
                    int parsed = parser.lines(buffer, held);
                    System.arraycopy(buffer, parsed, buffer, 0, held - parsed);
                    held -= parsed;
                    if (held == buffer.length) {
                        buffer = Arrays.copyOf(buffer, buffer.length * 2);
                    }
                }
                if (held > 0) {
                    buffer = Arrays.copyOf(buffer, held + 1);
                    buffer[held] = '\n'; // a last line without its newline
                    parser.lines(buffer, held + 1);
                }
            } catch (IOException e) {
                return unavailable("cannot read " + path + " (" + e.getMessage() + "): kernel stacks are shown as"
                        + " bare addresses");
            }
            return parser.table(path.toString());
        }

        static Table parse(byte[] text, int length, String source) {
            Parser parser = new Parser();
            byte[] whole = Arrays.copyOf(text, length + 1);
            whole[length] = '\n'; // a last line without its newline
            parser.lines(whole, length + 1);
            return parser.table(source);
        }

        /** Gathers symbols from whole lines of kallsyms, keeping each name's bytes. */
        private static final class Parser {
            long[] addresses = new long[16 * 1024];
            int[] names = new int[addresses.length];
            byte[][] chunks = new byte[64][];
            int chunkCount;
            /** Bytes used in the last chunk. */
            int chunkUsed = CHUNK_BYTES;
            int count;
            boolean anyAddress;

            /** Parses the complete lines among the first {@code length} bytes; returns the bytes they take. */
            int lines(byte[] bytes, int length) {
                int position = 0;
                for (int end; (end = lineEnd(bytes, position, length)) >= 0; position = end + 1) {
                    line(bytes, position, end);
                }
                return position;
            }

            private static int lineEnd(byte[] bytes, int from, int length) {
                for (int i = from; i < length; i++) {
                    if (bytes[i] == '\n') {
                        return i;
                    }
                }
                return -1;
            }

            /** "ADDRESS TYPE NAME[\t[MODULE]]", from {@code start} to the newline at {@code end}; a line of another shape is skipped. */
            private void line(byte[] bytes, int start, int end) {
                long address = 0;
                int position = start;
                for (int digit; position < end && (digit = hexDigit(bytes[position])) >= 0; position++) {
                    address = address << 4 | digit;
                }
                boolean wellFormed = position > start && position + 3 < end && bytes[position] == ' '
                        && bytes[position + 2] == ' ';
                byte type = wellFormed ? bytes[position + 1] : 0;
                // Absolute and undefined symbols are not code: per-CPU offsets would name low addresses.
                if (!wellFormed || type == 'a' || type == 'A' || type == 'U' || type == 'u') {
                    return;
                }
                int nameStart = position + 3;
                if (startsWith(bytes, nameStart, end, PADDING_PREFIX)) {
                    return;
                }
                if (count == addresses.length) {
                    addresses = Arrays.copyOf(addresses, count * 2);
                    names = Arrays.copyOf(names, count * 2);
                }
                int kept = end + 1 - nameStart; // with the newline, where a name or module ends
                if (chunkUsed + kept > CHUNK_BYTES) {
                    if (chunkCount == chunks.length) {
                        chunks = Arrays.copyOf(chunks, chunkCount * 2);
                    }
                    // A line longer than a chunk (none in a real kallsyms) gets one of its own, at offset 0.
                    chunks[chunkCount++] = new byte[Math.max(CHUNK_BYTES, kept)];
                    chunkUsed = 0;
                }
                System.arraycopy(bytes, nameStart, chunks[chunkCount - 1], chunkUsed, kept);
                anyAddress |= address != 0;
                addresses[count] = address;
                names[count] = (chunkCount - 1) << CHUNK_BITS | chunkUsed;
                chunkUsed += kept;
                count++;
            }

            Table table(String source) {
                if (count > 0 && !anyAddress) {
                    return unavailable("the kernel hides the addresses in " + source + " from this process: "
                            + Sysctl.explainHiddenKernelAddresses() + "; kernel stacks are shown as bare addresses");
                }
                if (count == 0) {
                    return unavailable(source + " lists no symbols: kernel stacks are shown as bare addresses");
                }
                // The payload is the index of the line, so names are permuted through it.
                int[] order = new int[count];
                for (int i = 0; i < count; i++) {
                    order[i] = i;
                }
                long[] sorted = Arrays.copyOf(addresses, count);
                addresses = null; // the table keeps only what it needs: no spare capacity
                SortedAddresses.sort(sorted, order, count);
                int[] sortedNames = new int[count];
                for (int i = 0; i < count; i++) {
                    sortedNames[i] = names[order[i]];
                }
                chunks[chunkCount - 1] = Arrays.copyOf(chunks[chunkCount - 1], chunkUsed);
                return new Table(sorted, sortedNames, Arrays.copyOf(chunks, chunkCount), count, null);
            }
        }

        private static boolean startsWith(byte[] bytes, int from, int end, byte[] prefix) {
            return end - from >= prefix.length && Arrays.equals(bytes, from, from + prefix.length, prefix, 0, prefix.length);
        }

        private static int hexDigit(byte b) {
            if (b >= '0' && b <= '9') {
                return b - '0';
            }
            if (b >= 'a' && b <= 'f') {
                return b - 'a' + 10;
            }
            return b >= 'A' && b <= 'F' ? b - 'A' + 10 : -1;
        }

        private static Table unavailable(String why) {
            return new Table(new long[0], new int[0], new byte[0][], 0, why);
        }

        String resolve(long address) {
            int index = SortedAddresses.floor(addresses, count, address);
            // kallsyms gives no sizes. Far past the last symbol of a region (kernel text, a
            // module, a BPF program loaded after we read the file) a name would mislead: the
            // largest kernel functions are tens of kilobytes.
            if (index < 0 || Long.compareUnsigned(address - addresses[index], MAX_OFFSET) > 0) {
                return SortedAddresses.hex(address);
            }
            byte[] chunk = text[names[index] >>> CHUNK_BITS];
            int start = names[index] & OFFSET_MASK;
            int end = nameEnd(chunk, start);
            String function = new String(chunk, start, end - start, StandardCharsets.UTF_8) + "+"
                    + SortedAddresses.hex(address - addresses[index]);
            boolean inModule = chunk[end] == '\t' && end + 1 < chunk.length && chunk[end + 1] == '[';
            return inModule ? function + " [" + module(chunk, end) + "]" : function;
        }

        Optional<Long> address(String wanted) {
            byte[] bytes = wanted.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < count; i++) {
                byte[] chunk = text[names[i] >>> CHUNK_BITS];
                int start = names[i] & OFFSET_MASK;
                int end = nameEnd(chunk, start);
                if (end - start == bytes.length && Arrays.equals(chunk, start, end, bytes, 0, bytes.length)) {
                    return Optional.of(addresses[i]);
                }
            }
            return Optional.empty();
        }

        /** The module after a name that ends at {@code nameEnd} with {@code "\t["}. */
        private static String module(byte[] chunk, int nameEnd) {
            int start = Math.min(nameEnd + 2, chunk.length);
            int end = start;
            while (end < chunk.length && chunk[end] != ']' && chunk[end] != '\n') {
                end++;
            }
            return new String(chunk, start, end - start, StandardCharsets.UTF_8);
        }

        /** Where the name at {@code start} ends: at its tab before a module, or at its line's end. */
        private static int nameEnd(byte[] chunk, int start) {
            int end = start;
            while (chunk[end] != '\t' && chunk[end] != '\n') {
                end++;
            }
            return end;
        }
    }
}
