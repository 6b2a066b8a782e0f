package dev.eventloopguardian.jvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * HotSpot's own description of its C++ layout: the {@code gHotSpotVMStructs},
 * {@code gHotSpotVMTypes} and {@code gHotSpotVMIntConstants} tables that libjvm exports for the
 * Serviceability Agent ({@code src/hotspot/share/runtime/vmStructs.cpp}). Each table is an array
 * of C structs ended by an entry with a null name; the array's address, its stride and each
 * member's offset are exported as symbols of their own, so nothing about the entries is assumed.
 */
final class VmStructs {
    /** A field entry: an offset for an instance field, an address for a static one. */
    record Field(String type, String name, String cType, boolean isStatic, long offset, long address) {
    }

    /** A type entry: its size and the type it derives from (null for none). */
    record Type(String name, String superclass, long size) {
    }

    private static final String NOT_HOTSPOT = "this JVM is not HotSpot, or a HotSpot too old or too new for eventloop-guardian";

    private final Path library;
    private final Map<String, Field> fields;
    private final Map<String, Type> types;
    private final Map<String, Integer> intConstants;

    private VmStructs(Path library, Map<String, Field> fields, Map<String, Type> types, Map<String, Integer> intConstants) {
        this.library = library;
        this.fields = fields;
        this.types = types;
        this.intConstants = intConstants;
    }

    /** The tables of the libjvm this process runs: {@code <java.home>/lib/server/libjvm.so}. */
    static VmStructs ofThisJvm() throws HotSpotLayoutException {
        return read(Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so"));
    }

    /**
     * The tables of {@code library}, which must already be loaded in this process: the lookup
     * only finds its symbols (loading a second libjvm would start nothing, but read a copy's
     * empty tables).
     */
    static VmStructs read(Path library) throws HotSpotLayoutException {
        if (!Files.isRegularFile(library)) {
            throw new HotSpotLayoutException("no " + library + ": " + NOT_HOTSPOT);
        }
        // Closing the arena only drops the reference count the lookup took: the launcher's own
        // reference keeps libjvm, and the tables, where they are.
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup symbols;
            try {
                symbols = SymbolLookup.libraryLookup(library, arena);
            } catch (IllegalArgumentException e) {
                throw new HotSpotLayoutException("cannot open " + library + ": " + NOT_HOTSPOT, e);
            }
            Symbols lookup = new Symbols(library, symbols);
            return new VmStructs(library, readFields(lookup), readTypes(lookup), readIntConstants(lookup));
        }
    }

    /**
     * The field {@code type::name}, declared by {@code type} or a class it derives from
     * ({@code _osthread} is declared by {@code Thread}, not {@code JavaThread}).
     */
    Field field(String type, String name) throws HotSpotLayoutException {
        for (String declaring = type; declaring != null; declaring = superclass(declaring)) {
            Field field = fields.get(declaring + "::" + name);
            if (field != null) {
                return field;
            }
        }
        throw new HotSpotLayoutException("HotSpot's layout table (gHotSpotVMStructs in " + library + ") has no field "
                + type + "::" + name + ": " + NOT_HOTSPOT);
    }

    Type type(String name) throws HotSpotLayoutException {
        Type type = types.get(name);
        if (type == null) {
            throw new HotSpotLayoutException("HotSpot's layout table (gHotSpotVMTypes in " + library + ") has no type "
                    + name + ": " + NOT_HOTSPOT);
        }
        return type;
    }

    int intConstant(String name) throws HotSpotLayoutException {
        Integer value = intConstants.get(name);
        if (value == null) {
            throw new HotSpotLayoutException("HotSpot's constant table (gHotSpotVMIntConstants in " + library
                    + ") has no " + name + ": " + NOT_HOTSPOT);
        }
        return value;
    }

    private String superclass(String type) {
        Type entry = types.get(type);
        return entry == null ? null : entry.superclass();
    }

    private static Map<String, Field> readFields(Symbols lookup) throws HotSpotLayoutException {
        long fieldName = lookup.value("gHotSpotVMStructEntryFieldNameOffset");
        long typeString = lookup.value("gHotSpotVMStructEntryTypeStringOffset");
        long isStatic = lookup.value("gHotSpotVMStructEntryIsStaticOffset");
        long offset = lookup.value("gHotSpotVMStructEntryOffsetOffset");
        long address = lookup.value("gHotSpotVMStructEntryAddressOffset");
        Map<String, Field> fields = new HashMap<>();
        forEachEntry(lookup, "gHotSpotVMStructs", "gHotSpotVMStructEntryArrayStride", "gHotSpotVMStructEntryTypeNameOffset",
                (entry, type) -> {
                    String name = string(entry + fieldName);
                    fields.put(type + "::" + name, new Field(type, name, string(entry + typeString),
                            NativeMemory.tableInt(entry + isStatic) != 0,
                            NativeMemory.tableLong(entry + offset), NativeMemory.tableLong(entry + address)));
                });
        return fields;
    }

    private static Map<String, Type> readTypes(Symbols lookup) throws HotSpotLayoutException {
        long superclass = lookup.value("gHotSpotVMTypeEntrySuperclassNameOffset");
        long size = lookup.value("gHotSpotVMTypeEntrySizeOffset");
        Map<String, Type> types = new HashMap<>();
        forEachEntry(lookup, "gHotSpotVMTypes", "gHotSpotVMTypeEntryArrayStride", "gHotSpotVMTypeEntryTypeNameOffset",
                (entry, name) -> types.put(name, new Type(name, string(entry + superclass), NativeMemory.tableLong(entry + size))));
        return types;
    }

    private static Map<String, Integer> readIntConstants(Symbols lookup) throws HotSpotLayoutException {
        long value = lookup.value("gHotSpotVMIntConstantEntryValueOffset");
        Map<String, Integer> constants = new HashMap<>();
        forEachEntry(lookup, "gHotSpotVMIntConstants", "gHotSpotVMIntConstantEntryArrayStride",
                "gHotSpotVMIntConstantEntryNameOffset", (entry, name) -> constants.put(name, NativeMemory.tableInt(entry + value)));
        return constants;
    }

    private interface EntryReader {
        void read(long entry, String name);
    }

    /** Calls {@code reader} for each entry of the table {@code array} until the one whose name is null. */
    private static void forEachEntry(Symbols lookup, String array, String stride, String nameOffset, EntryReader reader)
            throws HotSpotLayoutException {
        long first = lookup.pointer(array);
        long step = lookup.value(stride);
        long name = lookup.value(nameOffset);
        for (long entry = first; ; entry += step) {
            String entryName = string(entry + name);
            if (entryName == null) {
                return;
            }
            reader.read(entry, entryName);
        }
    }

    /** The string a table entry points to at {@code pointerAddress}, or null. */
    private static String string(long pointerAddress) {
        return NativeMemory.tableString(NativeMemory.tableLong(pointerAddress));
    }

    /** libjvm's exported variables, each a pointer or a {@code uint64_t}. */
    private record Symbols(Path library, SymbolLookup lookup) {
        /** The value of the exported 64-bit variable {@code name}. */
        long value(String name) throws HotSpotLayoutException {
            MemorySegment symbol = lookup.find(name).orElseThrow(() -> new HotSpotLayoutException(
                    library + " does not export " + name + ": " + NOT_HOTSPOT));
            return NativeMemory.tableLong(symbol.address());
        }

        /** The exported pointer variable {@code name}, which must not be null. */
        long pointer(String name) throws HotSpotLayoutException {
            long pointer = value(name);
            if (pointer == 0) {
                throw new HotSpotLayoutException(name + " in " + library + " is a null pointer: " + NOT_HOTSPOT);
            }
            return pointer;
        }
    }
}
