package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * This JVM's own memory, named and checked against the dynamic linker: {@code dlsym} (through
 * FFM's symbol lookups) gives the runtime address of a function, which must resolve to that
 * function at offset 0. That tests the load bias with no tool of ours on the other side.
 */
class ProcessSymbolsTest {
    private static final Pattern FRAME = Pattern.compile("(\\S+)\\+0x(\\p{XDigit}+) \\((\\S+)\\)");
    private final ProcessSymbols self = ProcessSymbols.of((int) ProcessHandle.current().pid());

    @Test
    void libcFunctionsAsTheDynamicLinkerPlacedThem() {
        SymbolLookup libc = Linker.nativeLinker().defaultLookup();
        // Not IFUNCs such as strlen: dlsym answers with the implementation chosen for this CPU.
        for (String name : List.of("clock_nanosleep", "nanosleep", "epoll_wait", "read", "write", "malloc",
                "free", "pthread_create", "poll", "getpid", "usleep")) {
            long address = libc.findOrThrow(name).address();
            assertNamesAFunctionAt(self, libc, address, "libc.so.6");
            assertThat(self.resolve(address + 3)).endsWith("+0x3 (libc.so.6)");
        }
        long clockNanosleep = libc.findOrThrow("clock_nanosleep").address();
        assertThat(self.resolve(clockNanosleep + 4)).isEqualTo("clock_nanosleep+0x4 (libc.so.6)");
    }

    @Test
    void libjvmFunctionsAsTheDynamicLinkerPlacedThem() {
        Path libjvm = Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so");
        SymbolLookup jvm = SymbolLookup.libraryLookup(libjvm, Arena.global());
        for (String name : List.of("JNI_CreateJavaVM", "JNI_GetCreatedJavaVMs", "JNI_GetDefaultJavaVMInitArgs")) {
            long address = jvm.findOrThrow(name).address();
            assertThat(self.resolve(address)).isEqualTo(name + "+0x0 (libjvm.so)");
        }
    }

    @Test
    void aLibraryWhoseTextStartsAPagePastItsFileOffset() throws Exception {
        // lld-linked code (Rust here) has p_vaddr != p_offset in its text segment: the case where
        // "mapping start - mapping offset + st_value" alone is a page off.
        Optional<Path> library = lldLinkedLibrary();
        assumeThat(library).as("an lld-linked shared library (Rust's libstd, from rustup)").isPresent();
        ElfReader elf;
        try (var channel = java.nio.channels.FileChannel.open(library.get())) {
            elf = ElfReader.read(ElfReader.Source.of(channel));
        }
        assertThat(elf.segments).anySatisfy(segment -> {
            assertThat(segment.type()).isEqualTo(ElfReader.PT_LOAD);
            assertThat(segment.flags() & 1).as("executable").isEqualTo(1);
            assertThat(segment.vaddr()).isNotEqualTo(segment.offset());
        });
        SymbolLookup lookup = SymbolLookup.libraryLookup(library.get(), Arena.global());
        ProcessSymbols self = ProcessSymbols.of((int) ProcessHandle.current().pid());
        FunctionTable functions = ElfSymbols.read(library.get(), null).functions;
        String fileName = library.get().getFileName().toString();
        int checked = 0;
        for (int i = 0; i < functions.size(); i += Math.max(1, functions.size() / 400)) {
            Optional<MemorySegment> found = lookup.find(functions.name(i));
            if (found.isPresent()) {
                assertNamesAFunctionAt(self, lookup, found.get().address(), fileName);
                checked++;
            }
        }
        assertThat(checked).as("exported functions compared with dlsym").isGreaterThan(20);
    }

    private static void assertNamesAFunctionAt(ProcessSymbols self, SymbolLookup lookup, long address, String file) {
        String name = self.resolve(address);
        Matcher frame = FRAME.matcher(name);
        assertThat(frame.matches()).as(name).isTrue();
        assertThat(frame.group(2)).as(name).isEqualTo("0");
        assertThat(frame.group(3)).isEqualTo(file);
        // The name may be an alias (nanosleep for __nanosleep); the dynamic linker must agree.
        assertThat(lookup.find(frame.group(1))).as(name).hasValueSatisfying(
                segment -> assertThat(segment.address()).isEqualTo(address));
    }

    @Test
    void aLibraryLoadedLaterIsFoundByReadingTheMapAgain() throws Exception {
        // One of the JDK's own libraries that this JVM has not loaded (dlopen runs no JNI_OnLoad).
        String maps = Files.readString(Path.of("/proc/self/maps"));
        Path library;
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.home"), "lib"))) {
            library = files.filter(path -> path.toString().endsWith(".so") && !maps.contains(path.toString()))
                    .filter(path -> List.of("libattach.so", "libsctp.so", "libj2gss.so", "libextnet.so")
                            .contains(path.getFileName().toString()))
                    .sorted().findFirst().orElse(null);
        }
        assumeThat(library).as("a JDK library not loaded yet").isNotNull();
        FunctionTable functions = ElfSymbols.read(library, null).functions;
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        String exported = null;
        for (int i = 0; i < functions.size() && exported == null; i++) {
            exported = lookup.find(functions.name(i)).isPresent() ? functions.name(i) : null;
        }
        assertThat(exported).isNotNull();
        long address = lookup.findOrThrow(exported).address();
        Thread.sleep(150);
        assertThat(self.resolve(address)).isEqualTo(exported + "+0x0 (" + library.getFileName() + ")");
    }

    private static Optional<Path> lldLinkedLibrary() throws IOException {
        Path toolchains = Path.of(System.getProperty("user.home"), ".rustup", "toolchains");
        if (!Files.isDirectory(toolchains)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.find(toolchains, 6, (path, attributes) -> attributes.isRegularFile()
                && path.getFileName().toString().matches("libstd-\\p{XDigit}+\\.so"))) {
            return files.sorted().findFirst();
        }
    }

    @Test
    void anonymousAndUnmappedMemoryIsNamedByAddressAndKind() throws IOException {
        List<Mapping> mappings = Mapping.parse(Files.readString(Path.of("/proc/self/maps")));
        Mapping stack = mappings.stream().filter(m -> m.name().equals("[stack]")).findFirst().orElseThrow();
        assertThat(self.resolve(stack.start() + 8)).isEqualTo("0x" + Long.toHexString(stack.start() + 8) + " (stack)");
        // HotSpot's code cache: anonymous executable memory, where JIT-compiled Java runs.
        Mapping jit = mappings.stream().filter(m -> m.name().isEmpty() && m.executable()).findFirst().orElseThrow();
        assertThat(self.resolve(jit.start())).isEqualTo("0x" + Long.toHexString(jit.start()) + " (jit)");
        assertThat(self.resolve(0x10)).isEqualTo("0x10");
    }

    @Test
    void aFileThatIsNotElfIsNamedByFileAndOffset() throws IOException {
        // The JDK maps its class library image, lib/modules.
        Mapping modules = Mapping.parse(Files.readString(Path.of("/proc/self/maps"))).stream()
                .filter(m -> m.name().endsWith("/lib/modules")).findFirst().orElseThrow();
        assertThat(self.resolve(modules.start() + 0x10))
                .isEqualTo("modules+0x" + Long.toHexString(modules.offset() + 0x10));
    }

    @Test
    void theVdsoIsNamedFromItsOwnSymbols() throws IOException {
        Mapping vdso = Mapping.parse(Files.readString(Path.of("/proc/self/maps"))).stream()
                .filter(m -> m.name().equals("[vdso]")).findFirst().orElseThrow();
        ElfSymbols symbols = Vdso.matching(vdso.end() - vdso.start()).orElseThrow();
        long clockGettime = symbols.functions.address("clock_gettime");
        assertThat(clockGettime).isPositive();
        long address = vdso.start() + symbols.fileOffset(clockGettime) + 2;
        assertThat(self.resolve(address)).isEqualTo("clock_gettime+0x2 ([vdso])");
    }

    @Test
    void aVanishedProcessGivesBareAddressesAndSaysWhy() {
        ProcessSymbols gone = ProcessSymbols.of(Integer.MAX_VALUE);
        assertThat(gone.unavailable()).hasValueSatisfying(why -> assertThat(why).contains("memory map"));
        assertThat(gone.resolve(0x7f0012345678L)).isEqualTo("0x7f0012345678");
    }
}
