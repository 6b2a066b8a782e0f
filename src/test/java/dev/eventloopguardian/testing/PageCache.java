package dev.eventloopguardian.testing;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One file in the page cache, for tests that need a read to wait for the disk. Java has no
 * {@code posix_fadvise}, and {@code echo 1 > /proc/sys/vm/drop_caches} would empty the cache of
 * the whole machine, which other work shares; this drops one file's clean pages and counts them.
 */
public final class PageCache {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle POSIX_FADVISE = downcall("posix_fadvise",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle MINCORE = downcall("mincore",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final int O_RDONLY = 0;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final long PAGE_SIZE = 4096;

    private PageCache() {
    }

    /**
     * Drops {@code file}'s pages from the page cache. Only clean pages go: write the file and
     * {@code force(true)} it first.
     */
    public static void drop(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toString()), O_RDONLY);
            if (fd < 0) {
                throw new IOException("cannot open " + file);
            }
            int error = (int) POSIX_FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED); // len 0: to the end
            int unused = (int) CLOSE.invokeExact(fd);
            if (error != 0) {
                throw new IOException("posix_fadvise(DONTNEED) on " + file + " failed: error " + error);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * How many bytes of {@code file} are in the page cache, from {@code mincore} over a mapping
     * of it (mapping touches no page).
     */
    public static long residentBytes(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = channel.size();
            if (size == 0) {
                return 0;
            }
            MemorySegment mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
            MemorySegment residency = arena.allocate(pages);
            if ((int) MINCORE.invokeExact(mapping, size, residency) != 0) {
                throw new IOException("mincore on " + file + " failed");
            }
            long resident = 0;
            for (long page = 0; page < pages; page++) {
                resident += residency.get(ValueLayout.JAVA_BYTE, page) & 1;
            }
            return resident * PAGE_SIZE;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor);
    }
}
