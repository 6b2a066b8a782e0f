package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** Reading a process's perf map when it changed, and asking for one no more often than allowed: pure logic, a fake clock. */
class PerfMapFileTest {
    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000 * MS;
    private static final long WORK = 0x7f0000001000L;
    private static final long SLEEP = 0x7f0000002000L;
    private static final int PID = 4242;
    private static final FileTime EPOCH = FileTime.fromMillis(0);

    @TempDir
    Path directory;
    private long now = 1_000 * SECOND;

    private PerfMapFile perfMap(Path file) {
        return new PerfMapFile(file, uid -> true, EPOCH, () -> now);
    }

    /** The map of a process whose perf map holds {@code text}, in {@code perf-1.map}. */
    private PerfMapFile perfMapOf(String text) {
        write(mapFile(), text);
        return perfMap(mapFile());
    }

    private Path mapFile() {
        return directory.resolve("perf-1.map");
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rewrites the file as a JVM does on each request, with a later time even within one clock tick. */
    private static void rewrite(Path file, String text) throws IOException {
        FileTime before = Files.getLastModifiedTime(file);
        write(file, text);
        Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 1_000));
    }

    @Test
    void namesJitCodeFromTheFile() {
        PerfMapFile map = perfMapOf("0x00007f0000001000 0x0000000000000100 void Work.run()\n");
        assertThat(map.resolve(WORK + 0x24)).isEqualTo("void Work.run()+0x24");
        assertThat(map.resolve(SLEEP)).isNull();
        assertThat(map.version()).isEqualTo(1);
    }

    @Test
    void readsAgainOnlyWhenAnAddressIsNotFoundAndTheFileChanged() throws IOException {
        Path file = mapFile();
        PerfMapFile map = perfMapOf("7f0000001000 100 work\n");
        assertThat(map.resolve(WORK)).isEqualTo("work+0x0");

        rewrite(file, "7f0000001000 100 moved\n7f0000002000 100 sleep\n");
        now += 200 * MS;
        assertThat(map.resolve(WORK)).as("found: the file is not looked at").isEqualTo("work+0x0");
        assertThat(map.version()).isEqualTo(1);
        assertThat(map.resolve(SLEEP)).as("not found: the changed file is read").isEqualTo("sleep+0x0");
        assertThat(map.resolve(WORK)).isEqualTo("moved+0x0");
        assertThat(map.version()).isEqualTo(2);
    }

    @Test
    void looksAtTheFileAtMostEvery100Milliseconds() throws IOException {
        Path file = mapFile();
        PerfMapFile map = perfMapOf("7f0000001000 100 work\n");
        assertThat(map.resolve(SLEEP)).isNull();
        rewrite(file, "7f0000001000 100 work\n7f0000002000 100 sleep\n");
        now += 50 * MS;
        assertThat(map.resolve(SLEEP)).as("50 ms after the last look").isNull();
        now += 60 * MS;
        assertThat(map.resolve(SLEEP)).isEqualTo("sleep+0x0");
    }

    @Test
    void anUnchangedFileIsNotReadAgain() throws IOException {
        PerfMapFile map = perfMapOf("7f0000001000 100 work\n");
        assertThat(map.resolve(SLEEP)).isNull();
        now += SECOND;
        assertThat(map.refresh()).isFalse();
        assertThat(map.resolve(SLEEP)).isNull();
        assertThat(map.version()).isEqualTo(1);
    }

    @Test
    void aMapThatAppearsLaterIsRead() {
        Path file = mapFile();
        PerfMapFile map = perfMap(file);
        assertThat(map.resolve(WORK)).isNull();
        write(file, "7f0000001000 100 work\n");
        now += 200 * MS;
        assertThat(map.refresh()).isTrue();
        assertThat(map.resolve(WORK)).isEqualTo("work+0x0");
    }

    @Test
    void onlyARegularFileOfAnAllowedOwnerIsRead() throws Exception {
        Path file = mapFile();
        write(file, "7f0000001000 100 work\n");
        assertThat(new PerfMapFile(file, uid -> false, EPOCH, () -> now).resolve(WORK)).as("owned by someone else").isNull();

        Path link = directory.resolve("perf-2.map");
        Files.createSymbolicLink(link, file);
        assertThat(perfMap(link).resolve(WORK)).as("a symbolic link").isNull();

        Path fifo = directory.resolve("perf-3.map");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        // Opening a FIFO would wait for a writer: it must not even be opened.
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThat(perfMap(fifo).resolve(WORK)).isNull());
    }

    @Test
    void aHugeMapKeepsItsNewestLines() {
        Path file = mapFile();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 1_000; i++) {
            text.append(Long.toHexString(WORK + i * 0x10L)).append(" 10 m").append(i).append('\n');
        }
        write(file, text.toString());
        // The last lines are 21 bytes each: the last 100 bytes hold 4 of them and the end of a fifth.
        PerfMapFile bytes = new PerfMapFile(file, uid -> true, EPOCH, () -> now, 100, 1_000_000);
        assertThat(bytes.resolve(WORK + 999 * 0x10L)).isEqualTo("m999+0x0");
        assertThat(bytes.resolve(WORK + 996 * 0x10L)).isEqualTo("m996+0x0");
        assertThat(bytes.resolve(WORK + 995 * 0x10L)).as("its start was not read").isNull();

        PerfMapFile lines = new PerfMapFile(file, uid -> true, EPOCH, () -> now, 1 << 20, 10);
        assertThat(lines.resolve(WORK + 990 * 0x10L)).isEqualTo("m990+0x0");
        assertThat(lines.resolve(WORK + 989 * 0x10L)).isNull();
    }

    @Test
    void aTailCutAtALineStartKeepsThatLine() {
        Path file = mapFile();
        write(file, "7f0000001000 10 first\n7f0000002000 10 last\n"); // 22 + 21 bytes
        PerfMapFile map = new PerfMapFile(file, uid -> true, EPOCH, () -> now, 21, 10);
        assertThat(map.resolve(SLEEP)).isEqualTo("last+0x0");
    }

    @Test
    void theFileIsFoundUnderTheProcessRootByItsInnermostPid() {
        Path proc = Path.of("/proc/31337");
        ProcessStatus status = ProcessStatus.parse("Name:\tjava\nNSpid:\t31337\t7\n", "31337");
        assertThat(PerfMapFile.of(proc, status, EPOCH, () -> now).file()).isEqualTo(Path.of("/proc/31337/root/tmp/perf-7.map"));
    }

    @Test
    void theFileMayBeOwnedByRootOrTheProcesssUser() throws IOException {
        Path proc = Files.createDirectories(directory.resolve("proc/9"));
        Path file = Files.createDirectories(proc.resolve("root/tmp")).resolve("perf-9.map");
        write(file, "7f0000001000 100 work\n");
        ProcessStatus status = ProcessStatus.parse("Uid:\t1000\t1000\t1000\t1000\n", "9");
        assertThat(PerfMapFile.of(proc, status, EPOCH, () -> now).resolve(WORK)).as("root's").isEqualTo("work+0x0");
        Files.setAttribute(file, "unix:uid", 1000);
        assertThat(PerfMapFile.of(proc, status, EPOCH, () -> now).resolve(WORK)).as("the process's user's").isEqualTo("work+0x0");
        Files.setAttribute(file, "unix:uid", 2000);
        assertThat(PerfMapFile.of(proc, status, EPOCH, () -> now).resolve(WORK)).as("another user's").isNull();
    }

    @Test
    void aMapFromBeforeTheProcessStartedIsAnotherProcesssWithTheSamePid() throws IOException {
        Path file = mapFile();
        write(file, "7f0000001000 100 work\n");
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_000_000));
        assertThat(new PerfMapFile(file, uid -> true, FileTime.fromMillis(2_000_000), () -> now).resolve(WORK)).isNull();
        assertThat(new PerfMapFile(file, uid -> true, FileTime.fromMillis(1_000_000), () -> now).resolve(WORK))
                .isEqualTo("work+0x0");
    }

    @Test
    void aProcessStartedWhenItsProcStatSays() throws IOException {
        long millis = PerfMapFile.started(Path.of("/proc/self")).toMillis();
        long jvmStart = ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();
        assertThat(millis).isBetween(jvmStart - 2_000, jvmStart + 10);
        assertThat(PerfMapFile.started(directory.resolve("no-such-process")).toMillis()).isZero();
    }

    /** A writer that records its asks and answers as the test says. */
    private static final class Writer implements PerfMapWriter {
        final List<Integer> asked = new ArrayList<>();
        CompletableFuture<Void> answer = CompletableFuture.completedFuture(null);
        Runnable writes = () -> {
        };

        @Override
        public CompletableFuture<Void> write(int pid) {
            asked.add(pid);
            writes.run();
            return answer;
        }
    }

    @Test
    void asksAtMostOncePerIntervalAndReadsWhatWasWritten() {
        Path file = mapFile();
        PerfMapFile map = perfMap(file);
        Writer writer = new Writer();
        writer.writes = () -> write(file, "7f0000001000 100 work\n");
        assertThat(map.resolve(WORK)).isNull();

        assertThat(map.ask(PID, writer, new long[] {WORK})).isNotNull();
        assertThat(map.settleAsk()).isTrue();
        assertThat(map.resolve(WORK)).isEqualTo("work+0x0");
        assertThat(writer.asked).containsExactly(PID);

        now += PerfMapFile.FIRST_ASK_INTERVAL_NANOS - 1;
        assertThat(map.ask(PID, writer, new long[] {SLEEP})).as("too soon").isNull();
        now += 1;
        assertThat(map.ask(PID, writer, new long[] {SLEEP})).isNotNull();
        assertThat(writer.asked).hasSize(2);
    }

    @Test
    void noSecondAskWhileOneIsUnanswered() {
        Path file = mapFile();
        PerfMapFile map = perfMap(file);
        Writer writer = new Writer();
        writer.answer = new CompletableFuture<>();
        assertThat(map.ask(PID, writer, new long[] {WORK})).isNotNull();
        now += 10 * PerfMapFile.FIRST_ASK_INTERVAL_NANOS;
        assertThat(map.ask(PID, writer, new long[] {WORK})).isNull();
        assertThat(writer.asked).hasSize(1);

        write(file, "7f0000001000 100 work\n");
        writer.answer.complete(null);
        assertThat(map.refresh()).as("the late answer's map is read at the next look").isTrue();
        assertThat(map.resolve(WORK)).isEqualTo("work+0x0");
    }

    @Test
    void aProcessThatCannotBeAskedIsNeverAskedAgain() {
        PerfMapFile map = perfMap(mapFile());
        Writer writer = new Writer();
        writer.answer = CompletableFuture.failedFuture(new IOException("The VM does not support the attach mechanism"));
        assertThat(map.ask(PID, writer, new long[] {WORK})).isNotNull();
        assertThat(map.settleAsk()).isFalse();
        assertThat(map.refusal()).contains("The VM does not support the attach mechanism");
        now += 100 * PerfMapFile.LONGEST_ASK_INTERVAL_NANOS;
        assertThat(map.ask(PID, writer, new long[] {WORK})).isNull();
        assertThat(writer.asked).hasSize(1);
    }

    @Test
    void aWriterThatThrowsOrWritesNothingCountsAsARefusal() {
        PerfMapFile throwing = perfMap(mapFile());
        assertThat(throwing.ask(PID, pid -> {
            throw new IllegalStateException("no attach provider");
        }, new long[] {WORK})).isNotNull();
        throwing.settleAsk();
        assertThat(throwing.refusal()).contains("no attach provider");

        PerfMapFile silent = perfMap(directory.resolve("perf-2.map"));
        assertThat(silent.ask(PID, new Writer(), new long[] {WORK})).isNotNull();
        silent.settleAsk();
        assertThat(silent.refusal()).hasValueSatisfying(why -> assertThat(why).contains("wrote no perf map at"));
    }

    @Test
    void asksLessOftenWhileNewMapsDoNotNameTheCodeThatPromptedThem() throws IOException {
        Path file = mapFile();
        PerfMapFile map = perfMapOf("7f0000001000 100 work\n");
        Writer writer = new Writer();
        List<Long> intervals = new ArrayList<>();
        long lastAsk = now;
        for (int ask = 0; ask < 8; ask++) {
            String text = "7f0000001000 100 work" + ask + "\n";
            writer.writes = () -> write(file, text);
            while (map.ask(PID, writer, new long[] {SLEEP}) == null) {
                now += SECOND;
            }
            intervals.add((now - lastAsk) / SECOND);
            lastAsk = now;
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + ask * 1_000L));
            map.settleAsk();
        }
        assertThat(intervals).containsExactly(0L, 10L, 20L, 40L, 80L, 160L, 160L, 160L);

        writer.writes = () -> write(file, "7f0000002000 100 sleep\n");
        now += 160 * SECOND;
        assertThat(map.ask(PID, writer, new long[] {SLEEP})).isNotNull();
        map.settleAsk();
        assertThat(map.resolve(SLEEP)).isEqualTo("sleep+0x0");
        now += PerfMapFile.FIRST_ASK_INTERVAL_NANOS;
        assertThat(map.ask(PID, writer, new long[] {WORK})).as("back to the first interval once a map named it")
                .isNotNull();
    }
}
