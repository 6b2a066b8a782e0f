package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Files already read, shared by every process: a JVM maps about fifty libraries and each
 * guarded process maps the same libc. Keyed by what identifies the bytes (device, inode, size
 * and modification time, from the opened file) rather than by path, so a library replaced on
 * disk is read again and the same file seen through two container roots is read once.
 */
final class ElfCache {
    // libjvm.so's table is the largest we meet, about 5 MB; a few hundred files bound the memory.
    private static final int CAPACITY = 256;

    private static final Map<Identity, Optional<ElfSymbols>> FILES = new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Identity, Optional<ElfSymbols>> eldest) {
            return size() > CAPACITY;
        }
    };

    private ElfCache() {
    }

    /** The identity of the file at {@code path} (following links, as map_files needs). */
    static Identity identify(Path path) throws IOException {
        Map<String, Object> stat = Files.readAttributes(path, "unix:dev,ino,size,lastModifiedTime");
        return new Identity((Long) stat.get("dev"), (Long) stat.get("ino"), (Long) stat.get("size"),
                (FileTime) stat.get("lastModifiedTime"));
    }

    record Identity(long device, long inode, long size, FileTime modified) {
    }

    /** The file's symbols, read on first use; empty for a file that is not ELF or cannot be read. */
    static Optional<ElfSymbols> get(Path path, Identity identity, Path root) {
        synchronized (FILES) {
            Optional<ElfSymbols> known = FILES.get(identity);
            if (known != null) {
                return known;
            }
        }
        Optional<ElfSymbols> read;
        try {
            read = Optional.of(ElfSymbols.read(path, root));
        } catch (IOException | ElfReader.NotElf e) {
            read = Optional.empty();
        }
        synchronized (FILES) {
            Optional<ElfSymbols> raced = FILES.putIfAbsent(identity, read);
            return raced != null ? raced : read;
        }
    }
}
