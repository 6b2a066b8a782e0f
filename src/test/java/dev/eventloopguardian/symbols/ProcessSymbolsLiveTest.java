package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Other processes, named from outside as a report will name them: a python3 asleep in
 * clock_nanosleep, whose user instruction pointer /proc/PID/syscall shows. No privileges needed
 * except where a test says so.
 */
class ProcessSymbolsLiveTest {
    static final String NANOSLEEP_IN_LIBC = "\\w*nanosleep\\w*\\+0x\\p{XDigit}+ \\(libc\\.so\\.6\\)";

    @Test
    void thePcOfASleepingPythonIsInLibcsNanosleep() throws Exception {
        try (Sleeper python = Sleeper.start("", Map.of())) {
            long pc = python.sleepingPc();
            assertThat(ProcessSymbols.of(python.pid()).resolve(pc)).matches(NANOSLEEP_IN_LIBC);
        }
    }

    @Test
    void namesWhatTheDynamicLinkerPlacedInAnotherProcess() throws Exception {
        // python's own dlsym: functions of the (non-PIE, stripped) executable and of libc.
        String script = """
                import ctypes
                libc = ctypes.CDLL("libc.so.6")
                for group, lib, names in (("python", ctypes.pythonapi, ("Py_Initialize", "PyObject_Call")),
                                          ("libc", libc, ("clock_nanosleep", "epoll_wait", "getpid"))):
                    for name in names:
                        print(group, name, ctypes.cast(getattr(lib, name), ctypes.c_void_p).value)
                """;
        try (Sleeper python = Sleeper.start(script, Map.of())) {
            ProcessSymbols symbols = ProcessSymbols.of(python.pid());
            assertThat(python.printed).hasSize(5);
            for (String line : python.printed) {
                String[] fields = line.split(" ");
                long address = Long.parseLong(fields[2]);
                String name = symbols.resolve(address);
                if (fields[0].equals("libc")) {
                    assertThat(name).isEqualTo(fields[1] + "+0x0 (libc.so.6)");
                } else {
                    // Debian's interpreter has them in the executable; others in libpython3.x.so.
                    assertThat(name).startsWith(fields[1] + "+0x0 (");
                }
            }
        }
    }

    @Test
    void codeWithoutASymbolIsNamedByFileOffsetWithTheBuildId() throws Exception {
        try (Sleeper python = Sleeper.start("", Map.of())) {
            Path maps = Path.of("/proc", Integer.toString(python.pid()), "maps");
            Mapping text = Mapping.parse(Files.readString(maps)).stream()
                    .filter(m -> m.executable() && m.name().equals("/usr/bin/python3.11")).findFirst().orElse(null);
            assumeThat(text).as("Debian's python3.11, stripped: its .init and .plt have no symbol").isNotNull();
            String buildId = ElfSymbols.read(Path.of(text.name()), null).buildId;
            assertThat(ProcessSymbols.of(python.pid()).resolve(text.start() + 4)).isEqualTo(
                    "python3.11+0x" + Long.toHexString(text.offset() + 4) + " (build-id " + buildId + ")");
        }
    }

    @Test
    void aLibraryDeletedSinceItWasMapped(@TempDir Path directory) throws Exception {
        Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
        assumeThat(libc).exists();
        Files.copy(libc, directory.resolve("libc.so.6"));
        try (Sleeper python = Sleeper.start("", Map.of("LD_LIBRARY_PATH", directory.toString()))) {
            long pc = python.sleepingPc();
            Files.delete(directory.resolve("libc.so.6"));
            Path maps = Path.of("/proc", Integer.toString(python.pid()), "maps");
            assertThat(Files.readString(maps)).contains(directory.resolve("libc.so.6") + " (deleted)");
            String name = ProcessSymbols.of(python.pid()).resolve(pc);
            Mapping text = Mapping.parse(Files.readString(maps)).stream().filter(m -> m.contains(pc)).findFirst()
                    .orElseThrow();
            assertThat(text.deleted()).isTrue();
            if (Files.isReadable(maps.resolveSibling("map_files").resolve(text.mapFilesName()))) {
                // With CAP_SYS_ADMIN (root), /proc/PID/map_files still opens the deleted bytes.
                assertThat(name).matches(NANOSLEEP_IN_LIBC);
            } else {
                assertThat(name).matches("libc\\.so\\.6\\+0x\\p{XDigit}+");
            }
        }
    }
}
