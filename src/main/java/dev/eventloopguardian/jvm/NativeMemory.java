package dev.eventloopguardian.jvm;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Reads this process's own memory at raw addresses: HotSpot's tables and structures, which
 * libjvm publishes only as addresses. Through {@code process_vm_readv} on ourselves, never by
 * dereferencing: a thread list walked while HotSpot frees and reuses it can hand us a stale
 * pointer, and a read through one must be an exception the caller retries, not a SIGSEGV that
 * kills the application (it did, about once in twelve agent starts on a busy machine).
 *
 * <p>libjvm's own tables (VMStructs), which live as long as the JVM, are read directly instead
 * ({@code table*}): they are thousands of reads at start-up, a syscall each would cost a launch
 * a tenth of a second.
 */
final class NativeMemory {
    /** The longest name read from a table; HotSpot's type and field names are far shorter. */
    static final int MAX_STRING = 512;
    /** A string is read in pieces this long: most names fit in one. */
    private static final int STRING_PIECE = 64;

    private NativeMemory() {
    }

    static long readLong(long address) {
        try (Arena arena = Arena.ofConfined()) {
            return read(address, arena.allocate(Long.BYTES)).get(JAVA_LONG_UNALIGNED, 0);
        }
    }

    static int readInt(long address) {
        try (Arena arena = Arena.ofConfined()) {
            return read(address, arena.allocate(Integer.BYTES)).get(JAVA_INT_UNALIGNED, 0);
        }
    }

    /** The NUL-terminated string at {@code address}, or null for a null pointer. */
    static String readCString(long address) {
        if (address == 0) {
            return null;
        }
        java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment piece = arena.allocate(STRING_PIECE);
            while (text.size() < MAX_STRING) {
                long copied = readSome(address + text.size(), piece);
                for (int i = 0; i < copied; i++) {
                    byte b = piece.get(JAVA_BYTE, i);
                    if (b == 0) {
                        return text.toString(StandardCharsets.UTF_8);
                    }
                    text.write(b);
                }
            }
        }
        throw new IllegalStateException("no string end within " + MAX_STRING + " bytes at 0x" + Long.toHexString(address));
    }

    /** A long of libjvm's own tables, which live as long as the JVM. */
    static long tableLong(long address) {
        return table(address, Long.BYTES).get(JAVA_LONG_UNALIGNED, 0);
    }

    /** An int of libjvm's own tables. */
    static int tableInt(long address) {
        return table(address, Integer.BYTES).get(JAVA_INT_UNALIGNED, 0);
    }

    /** A NUL-terminated name of libjvm's own tables, or null for a null pointer. */
    static String tableString(long address) {
        if (address == 0) {
            return null;
        }
        MemorySegment bytes = MemorySegment.ofAddress(address).reinterpret(MAX_STRING);
        for (int length = 0; length < MAX_STRING; length++) {
            if (bytes.get(JAVA_BYTE, length) == 0) {
                return new String(bytes.asSlice(0, length).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
            }
        }
        throw new IllegalStateException("no string end within " + MAX_STRING + " bytes at 0x" + Long.toHexString(address));
    }

    private static MemorySegment table(long address, int size) {
        if (address == 0) {
            throw new IllegalStateException("read through a null pointer");
        }
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    /** Fills {@code into} from {@code address}, all of it, or throws. */
    private static MemorySegment read(long address, MemorySegment into) {
        if (readSome(address, into) != into.byteSize()) {
            throw new IllegalStateException("memory at 0x" + Long.toHexString(address) + " ends within "
                    + into.byteSize() + " bytes");
        }
        return into;
    }

    private static long readSome(long address, MemorySegment into) {
        if (address == 0) {
            throw new IllegalStateException("read through a null pointer");
        }
        try {
            return Linux.readOwnMemory(address, into);
        } catch (SyscallException e) {
            throw new IllegalStateException("no memory at 0x" + Long.toHexString(address) + ": " + e.getMessage(), e);
        }
    }
}
