package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The parts of an ELF64 little-endian file (x86_64, aarch64) that naming code needs: the loadable
 * segments, the section table, the symbol tables and the build-id. Only the byte ranges asked for
 * are read, so a 30 MB libjvm.so costs its header, section table and symbol tables, never its
 * code. Anything else (32-bit, big-endian, not ELF) is refused with {@link NotElf}, and the caller
 * falls back to naming the file and offset.
 */
final class ElfReader {
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    static final int SHT_SYMTAB = 2;
    static final int SHT_NOTE = 7;
    static final int SHT_NOBITS = 8;
    static final int SHT_DYNSYM = 11;
    private static final long SHF_COMPRESSED = 0x800;
    private static final int NT_GNU_BUILD_ID = 3;
    // Section and segment tables beyond these are corrupt, not large.
    private static final int MAX_HEADERS = 1 << 16;

    /** Where the bytes come from: a file, or memory already read (the vDSO). */
    interface Source {
        ByteBuffer read(long position, int length) throws IOException;

        long size() throws IOException;

        static Source of(FileChannel channel) {
            return new Source() {
                @Override
                public ByteBuffer read(long position, int length) throws IOException {
                    ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
                    while (buffer.hasRemaining()) {
                        if (channel.read(buffer, position + buffer.position()) < 0) {
                            throw new IOException("ends at byte " + (position + buffer.position())
                                    + ", before " + (position + length));
                        }
                    }
                    return buffer.flip();
                }

                @Override
                public long size() throws IOException {
                    return channel.size();
                }
            };
        }

        static Source of(byte[] bytes) {
            return new Source() {
                @Override
                public ByteBuffer read(long position, int length) throws IOException {
                    if (position < 0 || position + length > bytes.length) {
                        throw new IOException("ends at byte " + bytes.length + ", before " + (position + length));
                    }
                    return ByteBuffer.wrap(bytes, (int) position, length).slice().order(ByteOrder.LITTLE_ENDIAN);
                }

                @Override
                public long size() {
                    return bytes.length;
                }
            };
        }
    }

    /** Not a file we can read symbols from; the message says what it is instead. */
    static final class NotElf extends Exception {
        private static final long serialVersionUID = 1L;

        NotElf(String message) {
            super(message);
        }
    }

    record Segment(int type, int flags, long offset, long vaddr, long fileSize) {
    }

    record Section(String name, int type, long flags, long offset, long size, int link, long entrySize) {
        boolean compressed() {
            return (flags & SHF_COMPRESSED) != 0;
        }
    }

    final int type;
    final List<Segment> segments;
    final List<Section> sections;
    private final Source source;

    private ElfReader(Source source, int type, List<Segment> segments, List<Section> sections) {
        this.source = source;
        this.type = type;
        this.segments = segments;
        this.sections = sections;
    }

    static ElfReader read(Source source) throws IOException, NotElf {
        long size = source.size();
        if (size < 64) {
            throw new NotElf("not ELF: " + size + " bytes");
        }
        ByteBuffer header = source.read(0, 64);
        if (header.getInt(0) != 0x464c457f) {
            throw new NotElf("not ELF");
        }
        if (header.get(4) != 2 || header.get(5) != 1) {
            throw new NotElf("ELF class " + header.get(4) + " data " + header.get(5)
                    + ": only 64-bit little-endian files are read");
        }
        int type = header.getShort(16) & 0xffff;
        long programOffset = header.getLong(32);
        long sectionOffset = header.getLong(40);
        int programEntry = header.getShort(54) & 0xffff;
        int programCount = header.getShort(56) & 0xffff;
        int sectionEntry = header.getShort(58) & 0xffff;
        int sectionCount = header.getShort(60) & 0xffff;
        int namesIndex = header.getShort(62) & 0xffff;
        List<Segment> segments = new ArrayList<>();
        if (programOffset != 0 && programEntry >= 56 && programCount < MAX_HEADERS) {
            ByteBuffer table = bytes(source, programOffset, (long) programEntry * programCount);
            for (int i = 0; i < programCount; i++) {
                int at = i * programEntry;
                segments.add(new Segment(table.getInt(at), table.getInt(at + 4), table.getLong(at + 8),
                        table.getLong(at + 16), table.getLong(at + 32)));
            }
        }
        List<Section> sections = new ArrayList<>();
        if (sectionOffset != 0 && sectionEntry >= 64 && sectionOffset < size) {
            // More than 0xff00 sections: the count and the names index move into section 0.
            ByteBuffer first = source.read(sectionOffset, 64);
            if (sectionCount == 0) {
                sectionCount = (int) Math.min(first.getLong(32), MAX_HEADERS);
            }
            if (namesIndex == 0xffff) {
                namesIndex = first.getInt(40);
            }
            ByteBuffer table = bytes(source, sectionOffset, (long) sectionEntry * sectionCount);
            ByteBuffer names = null;
            if (namesIndex < sectionCount) {
                int at = namesIndex * sectionEntry;
                names = source.read(table.getLong(at + 24), (int) Math.min(table.getLong(at + 32), 1 << 24));
            }
            for (int i = 0; i < sectionCount; i++) {
                int at = i * sectionEntry;
                sections.add(new Section(names == null ? "" : string(names, table.getInt(at)), table.getInt(at + 4),
                        table.getLong(at + 8), table.getLong(at + 24), table.getLong(at + 32), table.getInt(at + 40),
                        table.getLong(at + 56)));
            }
        }
        return new ElfReader(source, type, List.copyOf(segments), List.copyOf(sections));
    }

    /** Bytes of a section (or any range), refused beyond 256 MB, which no symbol table reaches. */
    ByteBuffer bytes(long offset, long length) throws IOException {
        return bytes(source, offset, length);
    }

    private static ByteBuffer bytes(Source source, long offset, long length) throws IOException {
        if (length < 0 || length > 1 << 28 || offset < 0) {
            throw new IOException("a range of " + length + " bytes at " + offset + " is not a symbol table");
        }
        return source.read(offset, (int) length);
    }

    /** The GNU build-id in hex, from the note segments or, without them, the note sections; or null. */
    String buildId() throws IOException {
        for (Segment segment : segments) {
            if (segment.type() == PT_NOTE) {
                String id = buildId(bytes(segment.offset(), segment.fileSize()));
                if (id != null) {
                    return id;
                }
            }
        }
        for (Section section : sections) {
            if (section.type() == SHT_NOTE) {
                String id = buildId(bytes(section.offset(), section.size()));
                if (id != null) {
                    return id;
                }
            }
        }
        return null;
    }

    private static String buildId(ByteBuffer notes) {
        int position = 0;
        while (position + 12 <= notes.limit()) {
            int nameSize = notes.getInt(position);
            int descriptionSize = notes.getInt(position + 4);
            int noteType = notes.getInt(position + 8);
            int name = position + 12;
            int description = name + align4(nameSize);
            if (nameSize < 0 || descriptionSize < 0 || description + descriptionSize > notes.limit()) {
                return null;
            }
            if (noteType == NT_GNU_BUILD_ID && nameSize == 4 && notes.getInt(name) == 0x00554e47) {
                byte[] id = new byte[descriptionSize];
                notes.get(description, id);
                return HexFormat.of().formatHex(id);
            }
            position = description + align4(descriptionSize);
        }
        return null;
    }

    private static int align4(int value) {
        return (value + 3) & ~3;
    }

    static String string(ByteBuffer table, int offset) {
        if (offset < 0 || offset >= table.limit()) {
            return "";
        }
        int end = offset;
        while (end < table.limit() && table.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - offset];
        table.get(offset, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
