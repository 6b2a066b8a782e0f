package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/** The ELF reader on real files of this machine, with no external tools. */
class ElfSymbolsTest {
    static final Path LIBC = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
    static final Path PYTHON = Path.of("/usr/bin/python3.11");
    static final Path LIBJVM = Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so");

    @Test
    void anAddressInsideAnExportedLibcFunctionResolvesBackToIt() throws Exception {
        assumeThat(LIBC).as("Debian's libc").exists();
        ElfSymbols libc = ElfSymbols.read(LIBC, null);
        long clockNanosleep = libc.functions.address("clock_nanosleep");
        assertThat(clockNanosleep).isPositive();
        assertThat(libc.functions.resolve(clockNanosleep + 4)).isEqualTo("clock_nanosleep+0x4");
        // The weak nanosleep and the global __nanosleep share an address; the callable name wins.
        assertThat(libc.functions.resolve(libc.functions.address("nanosleep"))).isEqualTo("nanosleep+0x0");
        assertThat(libc.functions.address("__nanosleep")).isEqualTo(-1);
        assertThat(libc.functions.size()).isGreaterThan(1000);
        assertThat(libc.buildId).matches("[0-9a-f]{40}");
        // Through the segments: the function's bytes are where its file offset says.
        assertThat(libc.function(libc.fileOffset(clockNanosleep + 4))).isEqualTo("clock_nanosleep+0x4");
    }

    @Test
    void aStrippedExecutableIsNamedFromItsDynamicSymbols() throws Exception {
        assumeThat(PYTHON).as("Debian's python3.11: a non-PIE executable without .symtab").exists();
        ElfSymbols python = ElfSymbols.read(PYTHON, null);
        long initialize = python.functions.address("Py_Initialize");
        // Linked at 0x400000: file addresses are runtime addresses.
        assertThat(initialize).isGreaterThan(0x400000L);
        assertThat(python.functions.resolve(initialize + 1)).isEqualTo("Py_Initialize+0x1");
        assertThat(python.fileOffset(initialize) + 0x400000).isEqualTo(initialize);
        assertThat(python.buildId).matches("[0-9a-f]{40}");
    }

    @Test
    void aStrippedLibraryIsCompletedFromItsDebugFileByBuildId() throws Exception {
        assumeThat(LIBC).exists();
        ElfSymbols plain = ElfSymbols.read(LIBC, null);
        Path debug = Path.of("/usr/lib/debug/.build-id", plain.buildId.substring(0, 2),
                plain.buildId.substring(2) + ".debug");
        assumeThat(debug).as("libc6-dbg installed").exists();
        ElfSymbols withDebug = ElfSymbols.read(LIBC, Path.of("/"));
        assertThat(withDebug.fromDebugFile).isTrue();
        assertThat(withDebug.functions.size()).isGreaterThan(plain.functions.size());
        // Exported names still win over the debug file's internal aliases.
        long clockNanosleep = withDebug.functions.address("clock_nanosleep");
        assertThat(clockNanosleep).isEqualTo(plain.functions.address("clock_nanosleep"));
        assertThat(withDebug.functions.resolve(clockNanosleep + 4)).isEqualTo("clock_nanosleep+0x4");
    }

    @Test
    void readsTheSymbolTableOfThirtyMegabytesOfLibjvm() throws Exception {
        ElfSymbols jvm = ElfSymbols.read(LIBJVM, null);
        assertThat(jvm.functions.size()).isGreaterThan(10_000);
        long create = jvm.functions.address("JNI_CreateJavaVM");
        assertThat(jvm.functions.resolve(create + 0x10)).isEqualTo("JNI_CreateJavaVM+0x10");
    }

    @Test
    void refusesWhatIsNotElf64(@TempDir Path directory) throws IOException {
        Path text = Files.writeString(directory.resolve("script.sh"), "#!/bin/sh\necho this is no ELF file at all\n"
                + "x".repeat(100));
        assertThatThrownBy(() -> ElfSymbols.read(text, null)).isInstanceOf(ElfReader.NotElf.class);
        byte[] elf32 = new byte[64];
        elf32[0] = 0x7f;
        elf32[1] = 'E';
        elf32[2] = 'L';
        elf32[3] = 'F';
        elf32[4] = 1;
        elf32[5] = 1;
        Path old = Files.write(directory.resolve("elf32"), elf32);
        assertThatThrownBy(() -> ElfSymbols.read(old, null)).isInstanceOf(ElfReader.NotElf.class)
                .hasMessageContaining("64-bit");
    }

    @Test
    void aTruncatedFileHasNoSymbolsButItsSegmentsStillCount(@TempDir Path directory) throws Exception {
        // The section table is at the end of the file: a partial copy loses every symbol, and
        // names fall back to file and offset, with the build-id from the notes at the start.
        Path truncated = Files.write(directory.resolve("libtruncated.so"), readHead(LIBJVM, 4096));
        ElfSymbols elf = ElfSymbols.read(truncated, null);
        assertThat(elf.functions.size()).isZero();
        assertThat(elf.buildId).isEqualTo(ElfSymbols.read(LIBJVM, null).buildId);
        assertThat(elf.vaddr(0x1000)).isNotEqualTo(-1);
    }

    private static byte[] readHead(Path file, int length) throws IOException {
        try (var in = Files.newInputStream(file)) {
            return in.readNBytes(length);
        }
    }
}
