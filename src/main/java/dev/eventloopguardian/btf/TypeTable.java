package dev.eventloopguardian.btf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The type section of a BTF blob, indexed as far as lookups have needed: where each type id's
 * record starts and its kind. Extending the index computes only record sizes, to find where the
 * next record starts; nothing is decoded until a lookup asks for it. The kernel lists the core
 * structs in its first few hundred types, so the guard's lookups index well under 1% of vmlinux.
 * Not thread-safe: {@link Btf} serialises access.
 */
final class TypeTable {
    private static final int MAGIC = 0xeb9f;
    private static final int SWAPPED_MAGIC = 0x9feb;
    private static final int VERSION = 1;
    private static final int MIN_HEADER = 24;
    private static final int RECORD = 12;

    final String source;
    private final Blob blob;
    private final boolean bigEndian;
    private final int typeEnd;
    private final int stringStart;
    private final int stringEnd;
    /** offsets[id] is where type {@code id}'s record starts, for ids up to {@code indexed}. */
    private int[] offsets = new int[1024];
    private byte[] kinds = new byte[1024];
    private int indexed;
    private int next;

    private TypeTable(String source, Blob blob, boolean bigEndian, int typeStart, int typeEnd, int stringStart,
            int stringEnd) {
        this.source = source;
        this.blob = blob;
        this.bigEndian = bigEndian;
        this.next = typeStart;
        this.typeEnd = typeEnd;
        this.stringStart = stringStart;
        this.stringEnd = stringEnd;
    }

    static TypeTable parse(Blob blob, String source) throws BtfException {
        int length = blob.length;
        if (length < 2) {
            throw new BtfException(source + " is not BTF data: it is only " + length + " bytes long");
        }
        int magic = blob.u8(0) | blob.u8(1) << 8;
        if (magic != MAGIC && magic != SWAPPED_MAGIC) {
            throw new BtfException(String.format("%s is not BTF data: it starts with bytes %02x %02x, not the"
                    + " BTF magic 0xeB9F", source, blob.u8(0), blob.u8(1)));
        }
        if (length < MIN_HEADER) {
            throw new BtfException(source + " is truncated: " + length + " bytes, shorter than the 24-byte BTF header");
        }
        if (blob.u8(2) != VERSION) {
            throw new BtfException(source + " is BTF version " + blob.u8(2) + "; eventloop-guardian reads version "
                    + VERSION);
        }
        boolean bigEndian = magic == SWAPPED_MAGIC;
        long headerLength = Integer.toUnsignedLong(blob.u32(4, bigEndian));
        if (headerLength < MIN_HEADER) {
            throw new BtfException(source + " is corrupt: its header length is " + headerLength
                    + ", less than the 24 bytes every BTF header has");
        }
        // Offsets count from the end of the header, whose length grows as BTF gains fields.
        long typeStart = headerLength + Integer.toUnsignedLong(blob.u32(8, bigEndian));
        long typeEnd = typeStart + Integer.toUnsignedLong(blob.u32(12, bigEndian));
        long stringStart = headerLength + Integer.toUnsignedLong(blob.u32(16, bigEndian));
        long stringEnd = stringStart + Integer.toUnsignedLong(blob.u32(20, bigEndian));
        long needed = Math.max(headerLength, Math.max(typeEnd, stringEnd));
        if (needed > length) {
            throw new BtfException(source + " is truncated: its header describes " + needed
                    + " bytes but there are only " + length);
        }
        if (stringEnd == stringStart || blob.u8((int) stringEnd - 1) != 0) {
            throw new BtfException(source + " is corrupt: its string section does not end with a NUL byte");
        }
        return new TypeTable(source, blob, bigEndian, (int) typeStart, (int) typeEnd, (int) stringStart,
                (int) stringEnd);
    }

    /** Whether type {@code id} exists, indexing up to it if needed. */
    boolean exists(int id) throws BtfException {
        while (indexed < id) {
            if (!indexNext()) {
                return false;
            }
        }
        return id >= 0;
    }

    private boolean indexNext() throws BtfException {
        int position = next;
        if (position >= typeEnd) {
            return false;
        }
        int id = indexed + 1;
        if (typeEnd - position < RECORD) {
            throw new BtfException(source + " is truncated: type #" + id + " starts " + (typeEnd - position)
                    + " bytes before the end of the type section, too short for a type record");
        }
        int info = u32(position + 4);
        int kind = info >>> 24 & 0x1f;
        if (!Kind.known(kind)) {
            throw new BtfException(source + ": type #" + id + " has BTF kind " + kind + ", which this version"
                    + " of eventloop-guardian does not know; please report it with the output of `uname -r`");
        }
        long end = (long) position + RECORD + Kind.FIXED_TRAILER[kind] + Kind.TRAILER_PER_ENTRY[kind] * (info & 0xffff);
        if (end > typeEnd) {
            throw new BtfException(source + " is truncated: type #" + id + " (" + Kind.name(kind)
                    + ") runs past the end of the type section");
        }
        if (id == offsets.length) {
            offsets = Arrays.copyOf(offsets, id * 2);
            kinds = Arrays.copyOf(kinds, id * 2);
        }
        offsets[id] = position;
        kinds[id] = (byte) kind;
        indexed = id;
        next = (int) end;
        return true;
    }

    /** The kind of {@code id}, 0 for void; a reference to a type that does not exist means corrupt data. */
    int kind(int id) throws BtfException {
        if (id == 0) {
            return 0;
        }
        if (id < 0 || !exists(id)) {
            throw new BtfException(source + " is corrupt: it refers to type #" + Integer.toUnsignedString(id)
                    + ", which does not exist");
        }
        return kinds[id];
    }

    // The accessors below take ids that kind() has already checked.

    int nameOffset(int id) {
        return u32(offsets[id]);
    }

    int vlen(int id) {
        return u32(offsets[id] + 4) & 0xffff;
    }

    boolean kindFlag(int id) {
        return u32(offsets[id] + 4) < 0;
    }

    /** The size of INT, ENUM, STRUCT, UNION, FLOAT; the referenced type id of PTR, TYPEDEF, CONST, ... */
    int sizeOrType(int id) {
        return u32(offsets[id] + 8);
    }

    /** The {@code index}-th u32 after the 12-byte record: btf_member i field f is 3 * i + f. */
    int trailer(int id, int index) {
        return u32(offsets[id] + RECORD + 4 * index);
    }

    String name(int id) throws BtfException {
        return string(nameOffset(id));
    }

    String string(int offset) throws BtfException {
        long start = stringStart + Integer.toUnsignedLong(offset);
        if (start >= stringEnd) {
            throw new BtfException(source + " is corrupt: name offset " + Integer.toUnsignedString(offset)
                    + " is outside the string section");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
        // The section ends with NUL (checked when parsing), so this stops inside it.
        for (int position = (int) start, b; (b = blob.u8(position)) != 0; position++) {
            bytes.write(b);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Compares in place, so a lookup that passes over hundreds of names decodes none of them. */
    boolean nameEquals(int offset, byte[] name) {
        long start = stringStart + Integer.toUnsignedLong(offset);
        if (start + name.length >= stringEnd) {
            return false;
        }
        int position = (int) start;
        for (byte b : name) {
            if (blob.u8(position++) != (b & 0xff)) {
                return false;
            }
        }
        return blob.u8(position) == 0;
    }

    /**
     * The first type of kind {@code kind} or {@code alsoKind} named {@code name}, or 0. A struct or
     * union with members wins over an empty one, which is how a declaration-only copy can appear.
     */
    int find(byte[] name, int kind, int alsoKind) throws BtfException {
        int empty = 0;
        for (int id = 1; exists(id); id++) {
            int k = kinds[id];
            if ((k == kind || k == alsoKind) && nameEquals(nameOffset(id), name)) {
                if (!Kind.isComposite(k) || vlen(id) > 0) {
                    return id;
                }
                if (empty == 0) {
                    empty = id;
                }
            }
        }
        return empty;
    }

    private int u32(int position) {
        return blob.u32(position, bigEndian);
    }
}
