package dev.eventloopguardian.testing;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * libc's {@code usleep} through an FFM downcall: a blocking call no Java method knows of (the
 * thread sleeps in clock_nanosleep), as an application's native code would make one.
 */
public final class NativeSleep {
    private static final MethodHandle USLEEP = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("usleep").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private NativeSleep() {
    }

    public static void usleep(long micros) {
        try {
            int unused = (int) USLEEP.invokeExact((int) micros);
        } catch (Throwable e) {
            throw new IllegalStateException("usleep failed", e);
        }
    }
}
