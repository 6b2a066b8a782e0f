package dev.eventloopguardian.btf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes BTF blobs in the kernel's format (include/uapi/linux/btf.h), so tests can pin down each
 * layout rule with a few types instead of depending on one kernel's vmlinux. Methods return the
 * new type's id; ids start at 1 as in the kernel.
 */
final class BtfBuilder {
    static final int SIGNED = 1;

    private final List<int[]> records = new ArrayList<>();
    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final Map<String, Integer> stringOffsets = new HashMap<>();
    private ByteOrder order = ByteOrder.LITTLE_ENDIAN;
    private int headerLength = 24;
    private int version = 1;

    BtfBuilder() {
        string("");
    }

    /** A header longer than today's 24 bytes, as future kernels may write; the extra bytes are junk. */
    BtfBuilder headerLength(int length) {
        headerLength = length;
        return this;
    }

    BtfBuilder order(ByteOrder byteOrder) {
        order = byteOrder;
        return this;
    }

    BtfBuilder version(int number) {
        version = number;
        return this;
    }

    int integer(String name, int size) {
        return integer(name, size, 0, size * 8, 0);
    }

    /** An INT whose encoding word says how many of its bits are used: how old encoders mark bitfields. */
    int integer(String name, int size, int encoding, int bits, int bitOffset) {
        return add(name, Kind.INT, 0, false, size, encoding << 24 | bitOffset << 16 | bits);
    }

    int floating(String name, int size) {
        return add(name, Kind.FLOAT, 0, false, size);
    }

    int pointer(int type) {
        return add(null, Kind.PTR, 0, false, type);
    }

    int typedef(String name, int type) {
        return add(name, Kind.TYPEDEF, 0, false, type);
    }

    int constant(int type) {
        return add(null, Kind.CONST, 0, false, type);
    }

    int volatileOf(int type) {
        return add(null, Kind.VOLATILE, 0, false, type);
    }

    int restrict(int type) {
        return add(null, Kind.RESTRICT, 0, false, type);
    }

    int typeTag(String tag, int type) {
        return add(tag, Kind.TYPE_TAG, 0, false, type);
    }

    int array(int element, int index, int count) {
        return add(null, Kind.ARRAY, 0, false, 0, element, index, count);
    }

    int forward(String name) {
        return add(name, Kind.FWD, 0, false, 0);
    }

    int enumeration(String name, int size, String... values) {
        int[] trailer = new int[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            trailer[2 * i] = string(values[i]);
            trailer[2 * i + 1] = i;
        }
        return add(name, Kind.ENUM, values.length, false, size, trailer);
    }

    int enumeration64(String name, String... values) {
        int[] trailer = new int[values.length * 3];
        for (int i = 0; i < values.length; i++) {
            trailer[3 * i] = string(values[i]);
            trailer[3 * i + 1] = i;
            trailer[3 * i + 2] = -1;
        }
        return add(name, Kind.ENUM64, values.length, false, 8, trailer);
    }

    int functionProto(int returnType, int... parameterTypes) {
        int[] trailer = new int[parameterTypes.length * 2];
        for (int i = 0; i < parameterTypes.length; i++) {
            trailer[2 * i] = string("arg" + i);
            trailer[2 * i + 1] = parameterTypes[i];
        }
        return add(null, Kind.FUNC_PROTO, parameterTypes.length, false, returnType, trailer);
    }

    int function(String name, int proto) {
        return add(name, Kind.FUNC, 1, false, proto);
    }

    int variable(String name, int type) {
        return add(name, Kind.VAR, 0, false, type, 1);
    }

    int dataSection(String name, int... variables) {
        int[] trailer = new int[variables.length * 3];
        for (int i = 0; i < variables.length; i++) {
            trailer[3 * i] = variables[i];
            trailer[3 * i + 1] = 8 * i;
            trailer[3 * i + 2] = 8;
        }
        return add(name, Kind.DATASEC, variables.length, false, 8 * variables.length, trailer);
    }

    int declTag(String tag, int type, int component) {
        return add(tag, Kind.DECL_TAG, 0, false, type, component);
    }

    /** A record of a kind btf.h does not define (yet), with no trailer. */
    int unknownKind(int kind) {
        return add(null, kind, 0, false, 0);
    }

    Composite struct(String name, int size) {
        return new Composite(name, Kind.STRUCT, size);
    }

    Composite union(String name, int size) {
        return new Composite(name, Kind.UNION, size);
    }

    /** Members are in bits, as in btf_member; a null name makes an anonymous member. */
    final class Composite {
        private final String name;
        private final int kind;
        private final int size;
        private final List<int[]> members = new ArrayList<>();
        private boolean kindFlag;

        private Composite(String name, int kind, int size) {
            this.name = name;
            this.kind = kind;
            this.size = size;
        }

        Composite member(String memberName, int type, int bitOffset) {
            members.add(new int[] {string(memberName), type, bitOffset, 0});
            return this;
        }

        /** Encoded as pahole does since kernels learned kind_flag: the width in the offset's top byte. */
        Composite bitfield(String memberName, int type, int bitOffset, int bits) {
            kindFlag = true;
            members.add(new int[] {string(memberName), type, bitOffset, bits});
            return this;
        }

        int add() {
            int[] trailer = new int[members.size() * 3];
            for (int i = 0; i < members.size(); i++) {
                int[] m = members.get(i);
                trailer[3 * i] = m[0];
                trailer[3 * i + 1] = m[1];
                trailer[3 * i + 2] = kindFlag ? m[3] << 24 | m[2] : m[2];
            }
            return BtfBuilder.this.add(name, kind, members.size(), kindFlag, size, trailer);
        }
    }

    int string(String value) {
        if (value == null) {
            return 0;
        }
        return stringOffsets.computeIfAbsent(value, v -> {
            int offset = strings.size();
            strings.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            strings.write(0);
            return offset;
        });
    }

    private int add(String name, int kind, int vlen, boolean kindFlag, int sizeOrType, int... trailer) {
        int info = kind << 24 | vlen | (kindFlag ? 1 << 31 : 0);
        int[] record = new int[3 + trailer.length];
        record[0] = string(name);
        record[1] = info;
        record[2] = sizeOrType;
        System.arraycopy(trailer, 0, record, 3, trailer.length);
        records.add(record);
        return records.size();
    }

    int typeSectionLength() {
        return records.stream().mapToInt(r -> r.length * 4).sum();
    }

    byte[] build() {
        return build(typeSectionLength());
    }

    /** With the header claiming {@code typeLength} bytes of types, to make corrupt blobs. */
    byte[] build(int typeLength) {
        int typeBytes = typeSectionLength();
        byte[] stringBytes = strings.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(headerLength + typeBytes + stringBytes.length).order(order);
        out.putShort((short) 0xeb9f).put((byte) version).put((byte) 0).putInt(headerLength);
        out.putInt(0).putInt(typeLength).putInt(typeBytes).putInt(stringBytes.length);
        byte[] junk = new byte[headerLength - 24];
        Arrays.fill(junk, (byte) 0xa5);
        out.put(junk);
        for (int[] record : records) {
            for (int word : record) {
                out.putInt(word);
            }
        }
        out.put(stringBytes);
        return out.array();
    }
}
