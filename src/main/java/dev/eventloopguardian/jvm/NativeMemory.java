package dev.eventloopguardian.jvm;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Reads this process's own memory at raw addresses: HotSpot's tables and structures, which
 * libjvm publishes only as addresses. The one place that turns an address into a
 * {@link MemorySegment} ({@code reinterpret} is no downcall, but a restricted method: a wrong
 * address crashes the JVM), so callers pass and get plain {@code long}s.
 */
final class NativeMemory {
    /** The longest name read from a table; HotSpot's type and field names are far shorter. */
    static final int MAX_STRING = 512;

    private NativeMemory() {
    }

    static long readLong(long address) {
        return segment(address, Long.BYTES).get(JAVA_LONG_UNALIGNED, 0);
    }

    static int readInt(long address) {
        return segment(address, Integer.BYTES).get(JAVA_INT_UNALIGNED, 0);
    }

    /** The NUL-terminated string at {@code address}, or null for a null pointer. */
    static String readCString(long address) {
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

    private static MemorySegment segment(long address, int size) {
        if (address == 0) {
            throw new IllegalStateException("read through a null pointer");
        }
        return MemorySegment.ofAddress(address).reinterpret(size);
    }
}
