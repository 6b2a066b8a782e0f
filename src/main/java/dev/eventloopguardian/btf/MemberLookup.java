package dev.eventloopguardian.btf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Walks member paths through structs and unions, resolving only the types on the way. */
final class MemberLookup {
    /** Alias chains and anonymous nesting are a handful deep in real kernels; more means a cycle. */
    private static final int MAX_DEPTH = 64;
    private static final int SUGGESTIONS = 5;

    private final TypeTable types;

    MemberLookup(TypeTable types) {
        this.types = types;
    }

    /** A member found inside a composite: bit offset from that composite's start. */
    private record Found(long bitOffset, int bitfieldSize, int type) {
    }

    /**
     * The member at {@code path} in {@code struct}. When the struct or a member is absent this
     * returns null if {@code explain} is false, and otherwise throws with names to try instead.
     */
    Member resolve(String struct, String path, boolean explain) throws BtfException {
        String[] names = segments(path);
        int container = findStruct(struct);
        if (container == 0) {
            if (!explain) {
                return null;
            }
            throw structMissing(struct);
        }
        long bitOffset = 0;
        for (int i = 0; ; i++) {
            Found found = find(container, bytes(names[i]), 0);
            if (found == null) {
                if (!explain) {
                    return null;
                }
                throw memberMissing(struct, names, i, container);
            }
            bitOffset += found.bitOffset();
            if (i == names.length - 1) {
                return plainField(struct, path, names, bitOffset, found);
            }
            int target = skipAliases(found.type());
            int kind = types.kind(target);
            if (!Kind.isComposite(kind)) {
                throw new BtfException(walked(struct, names, i + 1) + " is " + describe(found.type())
                        + ", not a struct or union, so it has no member \"" + names[i + 1] + "\""
                        + (kind == Kind.PTR ? "; following a pointer takes a separate load" : ""));
            }
            container = target;
        }
    }

    private Member plainField(String struct, String path, String[] names, long bitOffset, Found found)
            throws BtfException {
        int intBits = intBitfieldBits(found.type());
        if (found.bitfieldSize() != 0 || bitOffset % 8 != 0 || intBits != 0) {
            int bits = found.bitfieldSize() != 0 ? found.bitfieldSize() : intBits;
            throw new BtfException(walked(struct, names, names.length) + " is a bitfield ("
                    + (bits != 0 ? bits + " bits " : "") + "at bit offset " + bitOffset + "): it cannot be loaded"
                    + " as a plain field; read the word that holds it and mask the bits instead");
        }
        if (bitOffset / 8 > Integer.MAX_VALUE) {
            throw new BtfException(walked(struct, names, names.length) + " is at byte " + bitOffset / 8
                    + ", beyond any loadable offset");
        }
        return new Member(struct, path, (int) (bitOffset / 8), sizeOf(found.type(), struct, names, 0));
    }

    /** Named members first by position; anonymous members are searched as if their fields were ours. */
    private Found find(int composite, byte[] name, int depth) throws BtfException {
        if (depth > MAX_DEPTH) {
            throw cyclic(composite);
        }
        boolean bitfields = types.kindFlag(composite);
        int count = types.vlen(composite);
        for (int i = 0; i < count; i++) {
            int nameOffset = types.trailer(composite, 3 * i);
            int type = types.trailer(composite, 3 * i + 1);
            int raw = types.trailer(composite, 3 * i + 2);
            long bitOffset = bitfields ? raw & 0xffffff : Integer.toUnsignedLong(raw);
            int bitfieldSize = bitfields ? raw >>> 24 : 0;
            if (nameOffset != 0) {
                if (types.nameEquals(nameOffset, name)) {
                    return new Found(bitOffset, bitfieldSize, type);
                }
                continue;
            }
            int inner = skipAliases(type);
            if (Kind.isComposite(types.kind(inner))) {
                Found found = find(inner, name, depth + 1);
                if (found != null) {
                    return new Found(bitOffset + found.bitOffset(), found.bitfieldSize(), found.type());
                }
            }
        }
        return null;
    }

    /** A struct or union by name, or one reached through a typedef (such as {@code atomic_t}); 0 if absent. */
    private int findStruct(String name) throws BtfException {
        byte[] bytes = bytes(name);
        int id = types.find(bytes, Kind.STRUCT, Kind.UNION);
        if (id != 0) {
            return id;
        }
        int typedef = types.find(bytes, Kind.TYPEDEF, Kind.TYPEDEF);
        if (typedef != 0) {
            int target = skipAliases(typedef);
            if (Kind.isComposite(types.kind(target))) {
                return target;
            }
        }
        return 0;
    }

    int skipAliases(int id) throws BtfException {
        int current = id;
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            if (!Kind.isAlias(types.kind(current))) {
                return current;
            }
            current = types.sizeOrType(current);
        }
        throw cyclic(id);
    }

    private int sizeOf(int id, String struct, String[] names, int depth) throws BtfException {
        int type = skipAliases(id);
        int kind = types.kind(type);
        return switch (kind) {
            case Kind.INT, Kind.ENUM, Kind.ENUM64, Kind.FLOAT, Kind.STRUCT, Kind.UNION -> types.sizeOrType(type);
            case Kind.PTR -> Kind.POINTER_SIZE;
            case Kind.ARRAY -> {
                if (depth > MAX_DEPTH) {
                    throw cyclic(id);
                }
                long size = Integer.toUnsignedLong(types.trailer(type, 2))
                        * sizeOf(types.trailer(type, 0), struct, names, depth + 1);
                if (size > Integer.MAX_VALUE) {
                    throw new BtfException(walked(struct, names, names.length) + " is an array of " + size
                            + " bytes, too large to describe");
                }
                yield (int) size;
            }
            default -> throw new BtfException(walked(struct, names, names.length) + " is " + describe(id)
                    + ", which has no size to load");
        };
    }

    /**
     * Without the struct's kind_flag, old encoders mark a bitfield by an INT narrower than its
     * storage (btf.h BTF_INT_BITS / BTF_INT_OFFSET): returns that width, or 0 for a whole int.
     */
    private int intBitfieldBits(int id) throws BtfException {
        int type = skipAliases(id);
        if (types.kind(type) != Kind.INT) {
            return 0;
        }
        int encoding = types.trailer(type, 0);
        int bits = encoding & 0xff;
        int bitOffset = encoding >>> 16 & 0xff;
        return bits != types.sizeOrType(type) * 8 || bitOffset != 0 ? bits : 0;
    }

    private BtfException structMissing(String struct) throws BtfException {
        List<String> names = new ArrayList<>();
        boolean declaredOnly = false;
        byte[] wanted = bytes(struct);
        for (int id = 1; types.exists(id); id++) {
            int kind = types.kind(id);
            if (Kind.isComposite(kind) && types.nameOffset(id) != 0) {
                names.add(types.name(id));
            } else if (kind == Kind.FWD && types.nameEquals(types.nameOffset(id), wanted)) {
                declaredOnly = true;
            }
        }
        String detail = declaredOnly ? "; it is only forward-declared there, without its members"
                : Closest.describe(struct, names, SUGGESTIONS);
        return new BtfException("no struct or union \"" + struct + "\" in " + types.source + detail);
    }

    private BtfException memberMissing(String struct, String[] names, int failed, int container)
            throws BtfException {
        List<String> members = new ArrayList<>();
        collectNames(container, members, 0);
        String where = failed > 0 ? walked(struct, names, failed) + " (" + describe(container) + ")"
                : types.nameOffset(container) == 0 ? struct : describe(container);
        String detail = members.isEmpty() ? "; it has no members" : Closest.describe(names[failed], members, SUGGESTIONS);
        return new BtfException(where + " has no member \"" + names[failed] + "\" in " + types.source + detail);
    }

    private void collectNames(int composite, List<String> into, int depth) throws BtfException {
        if (depth > MAX_DEPTH) {
            throw cyclic(composite);
        }
        for (int i = 0; i < types.vlen(composite); i++) {
            int nameOffset = types.trailer(composite, 3 * i);
            if (nameOffset != 0) {
                into.add(types.string(nameOffset));
                continue;
            }
            int inner = skipAliases(types.trailer(composite, 3 * i + 1));
            if (Kind.isComposite(types.kind(inner))) {
                collectNames(inner, into, depth + 1);
            }
        }
    }

    /** "struct pt_regs", "an anonymous union", "a pointer to struct mm_struct", for messages. */
    private String describe(int id) throws BtfException {
        int kind = types.kind(id);
        if (kind == 0) {
            return "void";
        }
        if (kind == Kind.PTR) {
            return "a pointer to " + describe(skipAliases(types.sizeOrType(id)));
        }
        int nameOffset = types.nameOffset(id);
        if (nameOffset == 0) {
            return "an anonymous " + Kind.name(kind);
        }
        String name = types.string(nameOffset);
        return switch (kind) {
            case Kind.INT, Kind.FLOAT -> name;
            case Kind.STRUCT, Kind.UNION, Kind.ENUM -> Kind.name(kind) + " " + name;
            case Kind.FWD -> (types.kindFlag(id) ? "union " : "struct ") + name;
            case Kind.ENUM64 -> "enum " + name;
            default -> "a " + Kind.name(kind) + " " + name;
        };
    }

    private BtfException cyclic(int id) {
        return new BtfException(types.source + " is corrupt: type #" + id + " refers back to itself");
    }

    /** "task_struct.thread_info.flags" for the first {@code count} names, for messages only. */
    private static String walked(String struct, String[] names, int count) {
        StringBuilder walked = new StringBuilder(struct);
        for (int i = 0; i < count; i++) {
            walked.append('.').append(names[i]);
        }
        return walked.toString();
    }

    private static byte[] bytes(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    private static String[] segments(String path) {
        String[] names = path.split("\\.", -1);
        for (String name : names) {
            if (name.isEmpty()) {
                throw new IllegalArgumentException("member path \"" + path + "\" has an empty name;"
                        + " write names separated by single dots, such as thread_info.flags");
            }
        }
        return names;
    }
}
