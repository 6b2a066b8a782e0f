package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What naming costs from a cold start: run in a fresh JVM (a main, not a test, so timing never
 * makes the build flaky): {@code java --enable-native-access=ALL-UNNAMED -cp
 * target/classes:target/test-classes dev.eventloopguardian.symbols.SymbolsTiming}. Reports the
 * kallsyms load (and, again, its read and parse apart), then the first name in this JVM's
 * libjvm.so (reading its symbol table: 70k symbols, 53k functions) and a second one (cached).
 */
public final class SymbolsTiming {
    private SymbolsTiming() {
    }

    public static void main(String[] args) throws IOException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        for (int round = 0; round < rounds; round++) {
            KernelSymbols kernel = KernelSymbols.kallsyms();
            long start = System.nanoTime();
            int size = kernel.size();
            long loaded = System.nanoTime();
            long schedule = kernel.address("schedule").orElse(0L);
            long found = System.nanoTime();
            String name = kernel.resolve(schedule + 0x10);
            long resolved = System.nanoTime();
            byte[] text = Files.readAllBytes(KernelSymbols.KALLSYMS);
            long read = System.nanoTime();
            KernelSymbols.parse(text, "copy").size();
            long parsed = System.nanoTime();
            System.out.printf("kallsyms: %d symbols loaded in %.1f ms (again: read %.1f ms, parse %.1f ms);"
                            + " a resolve %.3f ms: %s%s%n", size, (loaded - start) / 1e6, (read - resolved) / 1e6,
                    (parsed - read) / 1e6, (resolved - found) / 1e6, name,
                    kernel.unavailable().map(why -> " (" + why + ")").orElse(""));
        }

        Path libjvm = Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so");
        MemorySegment function = SymbolLookup.libraryLookup(libjvm, Arena.global()).findOrThrow("JNI_CreateJavaVM");
        long start = System.nanoTime();
        ProcessSymbols self = ProcessSymbols.of((int) ProcessHandle.current().pid());
        long maps = System.nanoTime();
        String first = self.resolve(function.address() + 0x10);
        long firstDone = System.nanoTime();
        String second = self.resolve(function.address() + 0x20);
        long secondDone = System.nanoTime();
        System.out.printf("libjvm.so (%d MB): maps read in %.2f ms, first resolve %.1f ms: %s; second %.3f ms: %s%n",
                Files.size(libjvm) >> 20, (maps - start) / 1e6, (firstDone - maps) / 1e6, first,
                (secondDone - firstDone) / 1e6, second);
    }
}
