package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * What one ELF file tells about its code: where its loadable segments sit in the file and in its
 * own address space, its functions, and its build-id. Immutable, so one instance serves every
 * process that maps the file.
 */
final class ElfSymbols {
    private final List<ElfReader.Segment> loads;
    final FunctionTable functions;
    final String buildId;
    final boolean fromDebugFile;

    private ElfSymbols(List<ElfReader.Segment> loads, FunctionTable functions, String buildId, boolean fromDebugFile) {
        this.loads = loads;
        this.functions = functions;
        this.buildId = buildId;
        this.fromDebugFile = fromDebugFile;
    }

    /** Symbols assembled by hand, for tests of the address arithmetic. */
    static ElfSymbols of(List<ElfReader.Segment> loads, FunctionTable functions, String buildId) {
        return new ElfSymbols(List.copyOf(loads), functions, buildId, false);
    }

    /**
     * Reads {@code file}. A file without {@code .symtab} (stripped; only {@code .dynsym} left) is
     * completed from a separate debug file found by build-id under {@code root}, as Debian's
     * {@code -dbg} and {@code -dbgsym} packages install them, when there is one.
     */
    static ElfSymbols read(Path file, Path root) throws IOException, ElfReader.NotElf {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ElfReader.read(ElfReader.Source.of(channel)), root);
        }
    }

    static ElfSymbols read(ElfReader elf, Path root) throws IOException {
        FunctionTable.Builder builder = new FunctionTable.Builder();
        FunctionTable.addSections(elf, builder, ElfReader.SHT_SYMTAB);
        FunctionTable.addSections(elf, builder, ElfReader.SHT_DYNSYM);
        String buildId = elf.buildId();
        boolean hasSymtab = elf.sections.stream().anyMatch(s -> s.type() == ElfReader.SHT_SYMTAB);
        boolean fromDebugFile = !hasSymtab && root != null && buildId != null && addDebugFile(builder, root, buildId);
        List<ElfReader.Segment> loads = elf.segments.stream().filter(s -> s.type() == ElfReader.PT_LOAD).toList();
        return new ElfSymbols(loads, builder.build(), buildId, fromDebugFile);
    }

    private static boolean addDebugFile(FunctionTable.Builder builder, Path root, String buildId) {
        String relative = "usr/lib/debug/.build-id/" + buildId.substring(0, 2) + "/" + buildId.substring(2) + ".debug";
        // The target's own debug files first (a container's), then the host's: the build-id
        // guarantees they describe the same bytes.
        for (Path candidate : List.of(root.resolve(relative), Path.of("/").resolve(relative))) {
            if (!Files.isRegularFile(candidate)) {
                continue;
            }
            try (FileChannel channel = FileChannel.open(candidate, StandardOpenOption.READ)) {
                ElfReader debug = ElfReader.read(ElfReader.Source.of(channel));
                if (buildId.equals(debug.buildId())) {
                    FunctionTable.addSections(debug, builder, ElfReader.SHT_SYMTAB);
                    return true;
                }
            } catch (IOException | ElfReader.NotElf e) {
                // A broken debug file costs names, never the stack.
            }
        }
        return false;
    }

    /**
     * The address in the file's own address space (what {@code st_value} and {@code p_vaddr}
     * use) of the byte at {@code fileOffset}, through the loadable segment that holds it, or -1.
     * The runtime address of a function is then {@code mappingStart - mappingOffset +
     * (st_value - p_vaddr + p_offset)}: for a PIE or a shared object the mapping is placed
     * anywhere, and linkers such as lld put {@code p_vaddr} a page past {@code p_offset}, so
     * neither the mapping start nor the file offset alone is the load bias.
     */
    long vaddr(long fileOffset) {
        for (ElfReader.Segment load : loads) {
            if (fileOffset >= load.offset() && fileOffset - load.offset() < load.fileSize()) {
                return fileOffset - load.offset() + load.vaddr();
            }
        }
        return -1;
    }

    /** The inverse of {@link #vaddr}, for tests: the file offset of a file address, or -1. */
    long fileOffset(long vaddr) {
        for (ElfReader.Segment load : loads) {
            if (vaddr >= load.vaddr() && vaddr - load.vaddr() < load.fileSize()) {
                return vaddr - load.vaddr() + load.offset();
            }
        }
        return -1;
    }

    /** {@code name+0xoffset} for the code at a file offset, or null when no function covers it. */
    String function(long fileOffset) {
        long vaddr = vaddr(fileOffset);
        return vaddr < 0 ? null : functions.resolve(vaddr);
    }
}
