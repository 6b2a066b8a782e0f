package dev.eventloopguardian.btf;

import java.util.Locale;

/**
 * BTF type kinds (include/uapi/linux/btf.h). Plain int codes rather than an enum: the index scan
 * touches every one of the kernel's ~126k records, and an array lookup is all it can afford.
 */
final class Kind {
    static final int INT = 1;
    static final int PTR = 2;
    static final int ARRAY = 3;
    static final int STRUCT = 4;
    static final int UNION = 5;
    static final int ENUM = 6;
    static final int FWD = 7;
    static final int TYPEDEF = 8;
    static final int VOLATILE = 9;
    static final int CONST = 10;
    static final int RESTRICT = 11;
    static final int FUNC = 12;
    static final int FUNC_PROTO = 13;
    static final int VAR = 14;
    static final int DATASEC = 15;
    static final int FLOAT = 16;
    static final int DECL_TAG = 17;
    static final int TYPE_TAG = 18;
    static final int ENUM64 = 19;

    private static final String[] NAMES = {"void", "int", "ptr", "array", "struct", "union", "enum", "fwd",
            "typedef", "volatile", "const", "restrict", "func", "func_proto", "var", "datasec", "float",
            "decl_tag", "type_tag", "enum64"};

    /** Bytes after the 12-byte btf_type: a fixed part plus a part per vlen entry; -1 for unknown kinds. */
    static final int[] FIXED_TRAILER = {-1, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 4, 0, 0};
    static final int[] TRAILER_PER_ENTRY = {-1, 0, 0, 0, 12, 12, 8, 0, 0, 0, 0, 0, 0, 8, 0, 12, 0, 0, 0, 12};

    static final int POINTER_SIZE = 8;

    private Kind() {
    }

    static boolean known(int kind) {
        return kind > 0 && kind < NAMES.length;
    }

    static String name(int kind) {
        return kind >= 0 && kind < NAMES.length ? NAMES[kind] : "kind " + kind;
    }

    /** The code for a name such as "func" or "STRUCT". */
    static int parse(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (int kind = 1; kind < NAMES.length; kind++) {
            if (NAMES[kind].equals(lower)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown BTF kind \"" + name + "\"; known kinds: "
                + String.join(", ", java.util.Arrays.copyOfRange(NAMES, 1, NAMES.length)));
    }

    static boolean isComposite(int kind) {
        return kind == STRUCT || kind == UNION;
    }

    /** Kinds that only qualify or rename another type and never change its layout. */
    static boolean isAlias(int kind) {
        return kind == TYPEDEF || kind == VOLATILE || kind == CONST || kind == RESTRICT || kind == TYPE_TAG;
    }
}
