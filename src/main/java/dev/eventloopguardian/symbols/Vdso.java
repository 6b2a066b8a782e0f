package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The vDSO, the small ELF image the kernel maps into every process ({@code clock_gettime} and
 * friends run there). It is the same image in every 64-bit process on this kernel, so we read
 * our own copy from {@code /proc/self/mem}: no privileges needed over the target, and it works
 * after the target has exited.
 */
final class Vdso {
    private static final Optional<Image> OURS = read();

    record Image(long size, ElfSymbols symbols) {
    }

    private Vdso() {
    }

    /** Our vDSO's symbols, if a target's vDSO of {@code size} bytes is the same image. */
    static Optional<ElfSymbols> matching(long size) {
        return OURS.filter(image -> image.size() == size).map(Image::symbols);
    }

    private static Optional<Image> read() {
        try {
            for (Mapping mapping : Mapping.parse(Files.readString(Path.of("/proc/self/maps")))) {
                if (mapping.name().equals("[vdso]")) {
                    byte[] image = new byte[Math.toIntExact(mapping.end() - mapping.start())];
                    try (RandomAccessFile memory = new RandomAccessFile("/proc/self/mem", "r")) {
                        memory.seek(mapping.start());
                        memory.readFully(image);
                    }
                    ElfReader elf = ElfReader.read(ElfReader.Source.of(image));
                    return Optional.of(new Image(image.length, ElfSymbols.read(elf, null)));
                }
            }
        } catch (IOException | ElfReader.NotElf | ArithmeticException e) {
            // Without it, vDSO frames are named [vdso]+offset.
        }
        return Optional.empty();
    }
}
