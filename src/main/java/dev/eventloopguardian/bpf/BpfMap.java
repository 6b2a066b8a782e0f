package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.Errno;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF map: memory the kernel holds that programs and this process share. A program refers
 * to it by {@link #fd()} ({@link Assembler#loadMapFd}); the kernel keeps it alive while this
 * descriptor or any program using it exists. Keys and values are raw bytes in the machine's
 * byte order, exactly {@link #keySize()} and {@link #valueSize()} long.
 */
public final class BpfMap implements AutoCloseable {
    private static final int NAME_MAX = 15; // BPF_OBJ_NAME_LEN is 16, with the terminating NUL
    private static final long UPDATE_ANY = 0; // BPF_ANY: create or replace

    private final int fd;
    private final MapType type;
    private final String name;
    private final int keySize;
    private final int valueSize;
    private final int maxEntries;
    private final AtomicBoolean closed = new AtomicBoolean();

    private BpfMap(int fd, MapType type, String name, int keySize, int valueSize, int maxEntries) {
        this.fd = fd;
        this.type = type;
        this.name = name;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
    }

    /**
     * Creates a map. For {@link MapType#RINGBUF} the key and value sizes are 0 and
     * {@code maxEntries} is the buffer's size in bytes: a power of two, at least a page.
     * Arguments the kernel would refuse with a bare {@code EINVAL} are refused here with a
     * reason, as {@link IllegalArgumentException}.
     */
    public static BpfMap create(MapType type, String name, int keySize, int valueSize, int maxEntries)
            throws BpfException {
        validate(type, name, keySize, valueSize, maxEntries, Linux.pageSize());
        try (Arena arena = Arena.ofConfined()) {
            // union bpf_attr for BPF_MAP_CREATE: map_type@0 key_size@4 value_size@8 max_entries@12
            // map_flags@16 (0) ... map_name[16]@28; the rest stays zero.
            MemorySegment attr = arena.allocate(BpfSyscall.ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, type.id);
            attr.set(JAVA_INT, 4, keySize);
            attr.set(JAVA_INT, 8, valueSize);
            attr.set(JAVA_INT, 12, maxEntries);
            byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(nameBytes, 0, attr, JAVA_BYTE, 28, nameBytes.length);
            int fd = BpfSyscall.call("BPF_MAP_CREATE", BpfSyscall.MAP_CREATE, attr);
            return new BpfMap(fd, type, name, keySize, valueSize, maxEntries);
        } catch (SyscallException e) {
            throw new BpfException("cannot create " + type + " map '" + name + "'", e, null);
        }
    }

    /** {@code BPF_F_NO_PREALLOC}: elements are allocated as they are stored; local storage requires it. */
    private static final int NO_PREALLOC = 1;

    /**
     * Creates a {@link MapType#TASK_STORAGE} map of {@code valueSize}-byte values (1, 2, 4, 8 or
     * 16). The kernel wants BTF for local storage's key and value, so a two-type BTF object is
     * loaded for it: {@code int} for the key (a pidfd from user space) and an integer of the
     * value's size.
     */
    public static BpfMap createTaskStorage(String name, int valueSize) throws BpfException {
        boolean integer = Integer.bitCount(valueSize) == 1 && valueSize <= 16;
        if (!integer && (valueSize % 8 != 0 || valueSize > 1024)) {
            throw new IllegalArgumentException("a task storage value here is an integer of 1, 2, 4, 8 or 16 bytes, or u64s "
                    + "up to 1024 bytes, not " + valueSize);
        }
        validate(MapType.TASK_STORAGE, name, Integer.BYTES, valueSize, 0, Linux.pageSize());
        int btf = loadBtf(integer ? integerTypes(valueSize) : u64ArrayTypes(valueSize / Long.BYTES));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(BpfSyscall.ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, MapType.TASK_STORAGE.id);
            attr.set(JAVA_INT, 4, Integer.BYTES);
            attr.set(JAVA_INT, 8, valueSize);
            attr.set(JAVA_INT, 16, NO_PREALLOC);
            byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(nameBytes, 0, attr, JAVA_BYTE, 28, nameBytes.length);
            attr.set(JAVA_INT, 48, btf); // btf_fd@48, btf_key_type_id@52, btf_value_type_id@56
            attr.set(JAVA_INT, 52, 1);
            attr.set(JAVA_INT, 56, integer ? 2 : 3);
            int fd = BpfSyscall.call("BPF_MAP_CREATE", BpfSyscall.MAP_CREATE, attr);
            return new BpfMap(fd, MapType.TASK_STORAGE, name, Integer.BYTES, valueSize, 0);
        } catch (SyscallException e) {
            throw new BpfException("cannot create TASK_STORAGE map '" + name + "'", e, null);
        } finally {
            Linux.close(btf); // the map holds its own reference
        }
    }

    /**
     * A BTF object of two integer types: [1] {@code int} (4 bytes, signed), [2] {@code value}
     * ({@code valueSize} bytes, unsigned). Header, then type records (12 bytes + a u32 encoding
     * for BTF_KIND_INT: bits 0-7 the width in bits, bit 24 signed), then the strings.
     */
    static byte[] integerTypes(int valueSize) {
        int kindInt = 1 << 24;
        java.nio.ByteBuffer out = btf(2 * 16);
        out.putInt(1).putInt(kindInt).putInt(4).putInt(1 << 24 | 32);
        out.putInt(5).putInt(kindInt).putInt(valueSize).putInt(8 * valueSize);
        return out.put(BTF_STRINGS).array();
    }

    /**
     * A BTF object of [1] {@code int}, [2] {@code value} (a u64) and [3] an array of
     * {@code elements} of [2], indexed by [1]: a value of several u64 fields. An array's record is
     * a type record (12 bytes) and {@code btf_array} (its element type, index type and length).
     */
    static byte[] u64ArrayTypes(int elements) {
        int kindInt = 1 << 24;
        int kindArray = 3 << 24;
        java.nio.ByteBuffer out = btf(2 * 16 + 24);
        out.putInt(1).putInt(kindInt).putInt(4).putInt(1 << 24 | 32);
        out.putInt(5).putInt(kindInt).putInt(8).putInt(64);
        out.putInt(0).putInt(kindArray).putInt(0).putInt(2).putInt(1).putInt(elements);
        return out.put(BTF_STRINGS).array();
    }

    /** The names of our BTF types: "int" at offset 1, "value" at 5. */
    private static final byte[] BTF_STRINGS = "\0int\0value\0".getBytes(StandardCharsets.US_ASCII);

    /** A buffer for a BTF object with {@code typesBytes} of type records, its header written. */
    private static java.nio.ByteBuffer btf(int typesBytes) {
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(24 + typesBytes + BTF_STRINGS.length)
                .order(java.nio.ByteOrder.nativeOrder());
        return out.putShort((short) 0xeB9F).put((byte) 1).put((byte) 0).putInt(24) // magic, version, flags, hdr_len
                .putInt(0).putInt(typesBytes).putInt(typesBytes).putInt(BTF_STRINGS.length); // type_off/len, str_off/len
    }

    private static int loadBtf(byte[] blob) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocateFrom(JAVA_BYTE, blob);
            MemorySegment attr = arena.allocate(BpfSyscall.ATTR_SIZE, 8);
            attr.set(JAVA_LONG, 0, data.address()); // btf@0, btf_size@16
            attr.set(JAVA_INT, 16, blob.length);
            return BpfSyscall.call("BPF_BTF_LOAD", BpfSyscall.BTF_LOAD, attr);
        } catch (SyscallException e) {
            throw new BpfException("cannot load the BTF of a map", e, null);
        }
    }

    /**
     * The map behind {@code fd}, a descriptor another process handed this one (inherited across
     * exec), described by the caller, who knows what it was created as; this map owns {@code fd}
     * from now on. The kernel checks each use against the map itself.
     */
    public static BpfMap adopt(int fd, MapType type, String name, int keySize, int valueSize, int maxEntries) {
        return new BpfMap(fd, type, name, keySize, valueSize, maxEntries);
    }

    /** The checks behind {@link #create}, apart so that they can be tested without a kernel. */
    static void validate(MapType type, String name, int keySize, int valueSize, int maxEntries, int pageSize) {
        // The kernel accepts only these characters in object names (bpf_obj_name_cpy).
        if (name.length() > NAME_MAX || !name.matches("[A-Za-z0-9_.]*")) {
            throw new IllegalArgumentException("a map name has at most " + NAME_MAX
                    + " characters among A-Z a-z 0-9 _ and .: '" + name + "'");
        }
        switch (type) {
            case RINGBUF -> {
                if (keySize != 0 || valueSize != 0) {
                    throw new IllegalArgumentException("a ring buffer has no keys or values: key and value size must be 0, not "
                            + keySize + " and " + valueSize);
                }
                if (maxEntries < pageSize || Integer.bitCount(maxEntries) != 1) {
                    throw new IllegalArgumentException("a ring buffer's size must be a power of two multiple of the page size ("
                            + pageSize + " bytes), e.g. " + ringSizeFor(maxEntries, pageSize) + ", not " + maxEntries);
                }
            }
            case TASK_STORAGE -> {
                if (keySize != 4 || maxEntries != 0) {
                    throw new IllegalArgumentException("task storage is keyed by a pidfd (4 bytes) and has no size of its own");
                }
            }
            case ARRAY, PERCPU_ARRAY, HASH -> {
                if (type != MapType.HASH && keySize != 4) {
                    throw new IllegalArgumentException("an array's key is its u32 index: key size must be 4, not " + keySize);
                }
                if (keySize <= 0 || valueSize <= 0 || maxEntries <= 0) {
                    throw new IllegalArgumentException("key size, value size and entries must be positive, not " + keySize
                            + ", " + valueSize + " and " + maxEntries);
                }
            }
        }
    }

    /** The smallest valid ring buffer size that holds {@code bytes}, to suggest in a message. */
    private static int ringSizeFor(int bytes, int pageSize) {
        if (bytes <= pageSize) {
            return pageSize;
        }
        return bytes > 1 << 30 ? 1 << 30 : Integer.highestOneBit(bytes - 1) << 1;
    }

    /** The value under {@code key}, or empty when there is none (or, in an array, the index is out of range). */
    public Optional<byte[]> lookup(byte[] key) throws BpfException {
        requireEntries();
        requireLength("key", key, keySize);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(valueSize, 8);
            return lookup(arena, arena.allocateFrom(JAVA_BYTE, key), value)
                    ? Optional.of(value.toArray(JAVA_BYTE))
                    : Optional.empty();
        }
    }

    /** Stores {@code value} under {@code key}, creating or replacing it. */
    public void update(byte[] key, byte[] value) throws BpfException {
        requireEntries();
        requireLength("key", key, keySize);
        requireLength("value", value, valueSize);
        try (Arena arena = Arena.ofConfined()) {
            update(arena, arena.allocateFrom(JAVA_BYTE, key), arena.allocateFrom(JAVA_BYTE, value));
        }
    }

    /** Removes {@code key}; returns whether it was there. */
    public boolean delete(byte[] key) throws BpfException {
        requireEntries();
        requireLength("key", key, keySize);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = elementAttr(arena, arena.allocateFrom(JAVA_BYTE, key), MemorySegment.NULL);
            BpfSyscall.call("BPF_MAP_DELETE_ELEM", BpfSyscall.MAP_DELETE_ELEM, attr);
            return true;
        } catch (SyscallException e) {
            if (e.is(Errno.ENOENT)) {
                return false;
            }
            throw new BpfException("cannot delete an element of map '" + name + "'", e, null);
        }
    }

    /** Element {@code index} of an {@link MapType#ARRAY} of u64, such as a counter a program adds to. */
    public long lookupLong(int index) throws BpfException {
        requireLongArray(index);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_LONG);
            if (!lookup(arena, arena.allocateFrom(JAVA_INT, index), value)) {
                throw new IllegalStateException("array '" + name + "' has no element " + index);
            }
            return value.get(JAVA_LONG, 0);
        }
    }

    /** Sets element {@code index} of an {@link MapType#ARRAY} of u64. */
    public void updateLong(int index, long value) throws BpfException {
        requireLongArray(index);
        try (Arena arena = Arena.ofConfined()) {
            update(arena, arena.allocateFrom(JAVA_INT, index), arena.allocateFrom(JAVA_LONG, value));
        }
    }

    // union bpf_attr for MAP_LOOKUP_ELEM and MAP_UPDATE_ELEM: map_fd@0 key@8 value@16 flags@24.
    private boolean lookup(Arena arena, MemorySegment key, MemorySegment value) throws BpfException {
        MemorySegment attr = elementAttr(arena, key, value);
        try {
            BpfSyscall.call("BPF_MAP_LOOKUP_ELEM", BpfSyscall.MAP_LOOKUP_ELEM, attr);
            return true;
        } catch (SyscallException e) {
            if (e.is(Errno.ENOENT)) {
                return false;
            }
            throw new BpfException("cannot look up an element of map '" + name + "'", e, null);
        }
    }

    private void update(Arena arena, MemorySegment key, MemorySegment value) throws BpfException {
        MemorySegment attr = elementAttr(arena, key, value);
        attr.set(JAVA_LONG, 24, UPDATE_ANY);
        try {
            BpfSyscall.call("BPF_MAP_UPDATE_ELEM", BpfSyscall.MAP_UPDATE_ELEM, attr);
        } catch (SyscallException e) {
            throw new BpfException("cannot update an element of map '" + name + "'", e, null);
        }
    }

    private MemorySegment elementAttr(Arena arena, MemorySegment key, MemorySegment value) {
        MemorySegment attr = arena.allocate(BpfSyscall.ATTR_SIZE, 8);
        attr.set(JAVA_INT, 0, fd);
        attr.set(JAVA_LONG, 8, key.address());
        attr.set(JAVA_LONG, 16, value.address());
        return attr;
    }

    private void requireEntries() {
        if (type == MapType.RINGBUF) {
            throw new UnsupportedOperationException("ring buffer '" + name + "' has no elements: read it with RingBuffer");
        }
        if (type == MapType.PERCPU_ARRAY) {
            // The kernel would copy a value per possible CPU through our one value's memory.
            throw new UnsupportedOperationException("per-CPU map '" + name + "' is programs' scratch space: its values are not read or written from here");
        }
    }

    // The kernel copies exactly key_size / value_size bytes from our pointers: a shorter array
    // would make it read past our memory, a longer one would be silently cut.
    private static void requireLength(String what, byte[] bytes, int expected) {
        if (bytes.length != expected) {
            throw new IllegalArgumentException("the " + what + " must be " + expected + " bytes, not " + bytes.length);
        }
    }

    private void requireLongArray(int index) {
        if (type != MapType.ARRAY || valueSize != Long.BYTES) {
            throw new UnsupportedOperationException("map '" + name + "' is not an array of u64 but a " + type + " of "
                    + valueSize + "-byte values");
        }
        if (index < 0 || index >= maxEntries) {
            throw new IndexOutOfBoundsException("array '" + name + "' has " + maxEntries + " elements, not " + (index + 1));
        }
    }

    public int fd() {
        return fd;
    }

    public MapType type() {
        return type;
    }

    public String name() {
        return name;
    }

    public int keySize() {
        return keySize;
    }

    public int valueSize() {
        return valueSize;
    }

    /** Capacity in elements, or for a ring buffer its size in bytes. */
    public int maxEntries() {
        return maxEntries;
    }

    /**
     * Closes this descriptor, once: a second close could hit an unrelated file that reused
     * the number. Programs and ring buffer readers that use the map keep it alive.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Linux.close(fd);
        }
    }

    @Override
    public String toString() {
        return type + " map '" + name + "' (fd " + fd + ")";
    }
}
