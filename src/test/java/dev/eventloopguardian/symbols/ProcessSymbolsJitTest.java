package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * JIT code of this JVM, named from a perf map that a fake writer puts where HotSpot would:
 * {@code /tmp/perf-PID.map}, found through {@code /proc/PID/root} and the pid in {@code NSpid}.
 */
class ProcessSymbolsJitTest {
    private static final int SELF = (int) ProcessHandle.current().pid();
    private static final Path OUR_PERF_MAP = Path.of("/tmp/perf-" + SELF + ".map");
    private static final Duration WAIT = Duration.ofSeconds(5);

    @AfterEach
    void removeOurPerfMap() throws IOException {
        Files.deleteIfExists(OUR_PERF_MAP);
    }

    /** An address inside this JVM's code cache: anonymous executable memory. */
    private static long jitAddress() throws IOException {
        return Mapping.parse(Files.readString(Path.of("/proc/self/maps"))).stream()
                .filter(Mapping::isAnonymousCode)
                .findFirst().orElseThrow(() -> new AssertionError("no anonymous executable mapping in this JVM"))
                .start() + 0x40;
    }

    private static PerfMapWriter writing(String text, List<Integer> asked) {
        return pid -> {
            asked.add(pid);
            try {
                Files.writeString(OUR_PERF_MAP, text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return CompletableFuture.completedFuture(null);
        };
    }

    @Test
    void jitCodeIsNamedOnceTheJvmWasAskedForItsPerfMap() throws IOException {
        Files.deleteIfExists(OUR_PERF_MAP);
        long address = jitAddress();
        ProcessSymbols self = ProcessSymbols.of(SELF);
        assertThat(self.isHotSpot()).isTrue();
        assertThat(self.isJit(address)).isTrue();
        assertThat(self.resolve(address)).isEqualTo("0x" + Long.toHexString(address) + " (jit)");
        assertThat(self.isUnnamedJit(address)).isTrue();
        long version = self.jitNamesVersion();

        List<Integer> asked = new ArrayList<>();
        String line = Long.toHexString(address - 0x40) + " 100 void Fake.compiled(int)\n";
        assertThat(self.updateJitNames(new long[] {address}, writing(line, asked), WAIT)).isTrue();
        assertThat(asked).containsExactly(SELF);
        assertThat(self.resolve(address)).isEqualTo("void Fake.compiled(int)+0x40 (jit)");
        assertThat(self.isUnnamedJit(address)).isFalse();
        assertThat(self.jitNamesVersion()).isGreaterThan(version);

        assertThat(self.updateJitNames(new long[] {address}, writing(line, asked), WAIT)).as("asked just now").isFalse();
        assertThat(asked).hasSize(1);
    }

    @Test
    void aMapThatIsAlreadyThereIsReadWithoutAsking() throws IOException {
        long address = jitAddress();
        Files.writeString(OUR_PERF_MAP, Long.toHexString(address) + " 10 Interpreter\n");
        ProcessSymbols self = ProcessSymbols.of(SELF);
        assertThat(self.resolve(address + 1)).isEqualTo("Interpreter+0x1 (jit)");
        assertThat(self.resolve(address + 0x10)).as("past its end").endsWith(" (jit)").startsWith("0x");
    }

    @Test
    void aJvmThatCannotBeAskedSaysWhyAndIsNotAskedAgain() throws IOException {
        long address = jitAddress();
        ProcessSymbols self = ProcessSymbols.of(SELF);
        List<Integer> asked = new ArrayList<>();
        PerfMapWriter refusing = pid -> {
            asked.add(pid);
            return CompletableFuture.failedFuture(new IOException("The VM does not support the attach mechanism"));
        };
        assertThat(self.updateJitNames(new long[] {address}, refusing, WAIT)).isFalse();
        assertThat(self.jitNamesUnavailable()).contains("The VM does not support the attach mechanism");
        assertThat(self.updateJitNames(new long[] {address}, refusing, WAIT)).isFalse();
        assertThat(asked).hasSize(1);
        assertThat(self.resolve(address)).endsWith(" (jit)").startsWith("0x");
    }

    @Test
    void aSlowAnswerIsNotWaitedForAndItsMapIsReadLater() throws Exception {
        long address = jitAddress();
        ProcessSymbols self = ProcessSymbols.of(SELF);
        CompletableFuture<Void> answer = new CompletableFuture<>();
        assertThat(self.updateJitNames(new long[] {address}, pid -> answer, Duration.ofMillis(20))).isFalse();

        Files.writeString(OUR_PERF_MAP, Long.toHexString(address) + " 10 void Late.answer()\n");
        answer.complete(null);
        Thread.sleep(150); // past the 100 ms between looks at the file
        assertThat(self.updateJitNames(new long[] {address}, pid -> {
            throw new AssertionError("asked again");
        }, WAIT)).isTrue();
        assertThat(self.resolve(address)).isEqualTo("void Late.answer()+0x0 (jit)");
    }

    @Test
    void aProcessWithoutHotSpotIsNeverAsked() throws Exception {
        try (Sleeper python = Sleeper.start("", Map.of())) {
            ProcessSymbols symbols = ProcessSymbols.of(python.pid());
            assertThat(symbols.isHotSpot()).isFalse();
            assertThat(symbols.updateJitNames(new long[] {0x7f0000001000L}, pid -> {
                throw new AssertionError("asked python3 for a perf map");
            }, WAIT)).isFalse();
        }
    }
}
