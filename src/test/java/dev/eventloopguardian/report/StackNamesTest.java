package dev.eventloopguardian.report;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.JavaWait;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.symbols.PerfMapWriter;
import dev.eventloopguardian.sys.Arch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Linker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * JIT frames of this JVM's own stacks named from a perf map that a fake writer puts where HotSpot
 * would ({@code /tmp/perf-PID.map}): when the names come, how often the JVM is asked, and what a
 * report says when it cannot be.
 */
class StackNamesTest {
    private static final int SELF = (int) ProcessHandle.current().pid();
    private static final Path OUR_PERF_MAP = Path.of("/tmp/perf-" + SELF + ".map");

    private final List<Integer> asked = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    @AfterEach
    void removeOurPerfMap() throws IOException {
        Files.deleteIfExists(OUR_PERF_MAP);
    }

    private StackNames names(PerfMapWriter writer) {
        return new StackNames(SyscallTable.of(Arch.current()), KernelSymbols.kallsyms(), writer, notes::add);
    }

    /** A writer that writes {@code text} as our perf map when asked. */
    private PerfMapWriter writing(String text) {
        return pid -> {
            asked.add(pid);
            writeOurPerfMap(text);
            return CompletableFuture.completedFuture(null);
        };
    }

    private static void writeOurPerfMap(String text) {
        try {
            FileTime before = Files.exists(OUR_PERF_MAP) ? Files.getLastModifiedTime(OUR_PERF_MAP) : FileTime.fromMillis(0);
            Files.writeString(OUR_PERF_MAP, text);
            // A rewrite within one tick of the file system's clock must still look changed.
            Files.setLastModifiedTime(OUR_PERF_MAP, FileTime.fromMillis(Math.max(System.currentTimeMillis(),
                    before.toMillis() + 1_000)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Addresses in this JVM's code cache, anonymous executable memory. */
    private static long codeCache() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length == 5 && fields[1].contains("x")) {
                return Long.parseUnsignedLong(fields[0].substring(0, fields[0].indexOf('-')), 16);
            }
        }
        throw new AssertionError("no anonymous executable mapping in this JVM");
    }

    private static BlockingEvent event(long... user) {
        return new BlockingEvent(System.nanoTime(), SELF, SELF, "loop", 7, new long[6], 1, new long[0], user, 1, 1,
                JavaWait.NONE);
    }

    private static String line(long start, String name) {
        return Long.toHexString(start) + " 100 " + name + "\n";
    }

    @Test
    void theEventThatFindsUnnamedJitFramesGetsTheNamesItsJvmWrites() throws IOException {
        long code = codeCache();
        StackNames names = names(writing(line(code, "void Loop.handle(Request)")));
        assertThat(names.name(event(code + 0x24)).userStack()).containsExactly("void Loop.handle(Request)+0x24 (jit)");
        assertThat(asked).containsExactly(SELF);

        assertThat(names.name(event(code + 0x24)).userStack()).as("the same stack again")
                .containsExactly("void Loop.handle(Request)+0x24 (jit)");
        assertThat(asked).hasSize(1);
        assertThat(notes).isEmpty();
    }

    @Test
    void aNamedStackIsNamedAgainOnceTheMapChanged() throws Exception {
        long code = codeCache();
        StackNames names = names(writing(line(code, "void Old.code()")));
        assertThat(names.name(event(code + 4)).userStack()).containsExactly("void Old.code()+0x4 (jit)");

        // The JVM freed that code and compiled other code there, and a new map says so.
        writeOurPerfMap(line(code, "void New.code()") + line(code + 0x100, "void Other.code()"));
        Thread.sleep(150); // past the 100 ms between looks at the file
        assertThat(names.name(event(code + 0x104)).userStack()).as("not in the old map: the new one is read")
                .containsExactly("void Other.code()+0x4 (jit)");
        assertThat(names.name(event(code + 4)).userStack()).containsExactly("void New.code()+0x4 (jit)");
        assertThat(asked).hasSize(1);
    }

    @Test
    void aJvmThatCannotBeAskedKeepsItsAddressesAndIsNotedOnce() throws IOException {
        long code = codeCache();
        StackNames names = names(pid -> {
            asked.add(pid);
            return CompletableFuture.failedFuture(new IOException("The VM does not support the attach mechanism"));
        });
        assertThat(names.name(event(code + 8)).userStack()).containsExactly("0x" + Long.toHexString(code + 8) + " (jit)");
        assertThat(names.name(event(code + 16)).userStack()).containsExactly("0x" + Long.toHexString(code + 16) + " (jit)");
        assertThat(asked).hasSize(1);
        assertThat(notes).containsExactly("JIT frames of pid " + SELF + " stay unnamed: it cannot be asked for a perf map "
                + "(The VM does not support the attach mechanism)");
    }

    @Test
    void aStackWithoutJitFramesNeverAsks() {
        long poll = Linker.nativeLinker().defaultLookup().findOrThrow("poll").address();
        StackNames names = names(writing(""));
        assertThat(names.name(event(poll + 3)).userStack()).containsExactly("poll+0x3 (libc.so.6)");
        assertThat(asked).isEmpty();
    }

    /** A process gone, or exec'd, before its map was read: its innermost frame stays, in hex. */
    @Test
    void aFrameOutsideTheProcesssMapStaysAsARawAddress() {
        long unmapped = 0x10_0000L; // below every mapping: mmap_min_addr keeps it free
        StackNames names = names(writing(""));
        assertThat(names.name(event(unmapped, unmapped + 8)).userStack()).containsExactly("0x100000");
    }
}
