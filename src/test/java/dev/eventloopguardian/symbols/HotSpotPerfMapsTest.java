package dev.eventloopguardian.symbols;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.JitCompiledBlocking;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Asking real JVMs for their perf maps through the Attach API, and the JVMs that must not be asked. */
class HotSpotPerfMapsTest {
    private static final int SIGSTOP = 19;
    private final List<Process> jvms = new ArrayList<>();
    private final HotSpotPerfMaps perfMaps = new HotSpotPerfMaps();
    /**
     * The JVMs' working directory, where the JDK's client puts {@code .attach_pidN}: a run stopped
     * in the middle of an ask must not leave one in the checkout.
     */
    @TempDir
    Path workingDirectory;

    @AfterEach
    void stopJvms() throws IOException {
        for (Process jvm : jvms) {
            jvm.destroyForcibly();
            Files.deleteIfExists(perfMapOf(jvm));
        }
    }

    private static Path perfMapOf(Process jvm) {
        return Path.of("/tmp/perf-" + jvm.pid() + ".map");
    }

    /** Starts a JVM whose compiled method then sleeps for a minute; returns once it is compiled. */
    private Process startJvm(String... options) throws IOException {
        return startJvm(List.of(), System.getProperty("java.class.path"), workingDirectory, options);
    }

    private Process startJvm(List<String> prefix, String classPath, Path directory, String... options) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        List<String> jvm = JitCompiledBlocking.commandWithClassPath(classPath, "waiter", "1", "60000");
        int java = jvm.indexOf(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(jvm.subList(0, java + 1));
        command.addAll(List.of(options));
        command.addAll(jvm.subList(java + 1, jvm.size()));
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        jvms.add(process);
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).as("the JVM's first line").isEqualTo("ready");
        return process;
    }

    @Test
    void aJvmWritesItsPerfMapWithTheCompiledMethod() throws Exception {
        Process jvm = startJvm();
        perfMaps.write((int) jvm.pid()).get(30, TimeUnit.SECONDS);
        assertThat(Files.readString(perfMapOf(jvm))).contains(" " + JitCompiledBlocking.METHOD + "\n");
        // Again, through the attach listener the first ask started.
        Files.delete(perfMapOf(jvm));
        perfMaps.write((int) jvm.pid()).get(30, TimeUnit.SECONDS);
        assertThat(perfMapOf(jvm)).exists();
    }

    @Test
    @KernelTest(needs = {})
    void rootAsksAJvmOfAnotherUser(@TempDir Path scratch) throws Exception {
        String classPath = Guardian.worldReadableClassPath(scratch, List.of(JitCompiledBlocking.class.getName()));
        // Its working directory must let it in: the scratch copy of its classes is open to all.
        Process jvm = startJvm(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"), classPath, scratch);
        perfMaps.write((int) jvm.pid()).get(30, TimeUnit.SECONDS);
        assertThat(Files.getOwner(perfMapOf(jvm)).getName()).isNotEqualTo("root");
        assertThat(Files.readString(perfMapOf(jvm))).contains(JitCompiledBlocking.METHOD);
    }

    @Test
    void aJvmThatDisabledAttachingIsNotSentSigquit() throws Exception {
        // Without perf data the JDK's own client cannot tell, and would signal it into thread dumps.
        Process jvm = startJvm("-XX:+DisableAttachMechanism", "-XX:-UsePerfData");
        CompletableFuture<Void> ask = perfMaps.write((int) jvm.pid());
        assertThatThrownBy(() -> ask.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasMessageContaining("-XX:+DisableAttachMechanism");
        Thread.sleep(500); // a JVM prints its thread dump within milliseconds of a SIGQUIT
        InputStream out = jvm.getInputStream();
        assertThat(new String(out.readNBytes(out.available()), StandardCharsets.UTF_8)).doesNotContain("thread dump");
        assertThat(perfMapOf(jvm)).doesNotExist();
    }

    @Test
    void aJvmThatDoesNotCatchSigquitIsAskedThroughTheListenerItStartedAtStartUp() throws Exception {
        // -Xrs leaves SIGQUIT alone, so HotSpot starts its attach listener at once instead.
        Process jvm = startJvm("-Xrs");
        perfMaps.write((int) jvm.pid()).get(30, TimeUnit.SECONDS);
        assertThat(Files.readString(perfMapOf(jvm))).contains(JitCompiledBlocking.METHOD);
    }

    @Test
    void aProcessThatDoesNotCatchSigquitIsRefusedAtOnceAndUnharmed() throws Exception {
        try (Sleeper python = Sleeper.start("", java.util.Map.of())) {
            long started = System.nanoTime();
            CompletableFuture<Void> ask = perfMaps.write(python.pid());
            assertThatThrownBy(() -> ask.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("does not catch SIGQUIT");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("not the client's 10 s wait")
                    .isLessThan(2_000);
            assertThat(python.process.isAlive()).as("SIGQUIT would have killed it").isTrue();
        }
    }

    @Test
    void theMapAnAskMadeIsRemovedOnceItsJvmHasExitedAndOnlyThen() throws Exception {
        Process exits = startJvm();
        Process runs = startJvm();
        Process hadOne = startJvm();
        Files.writeString(perfMapOf(hadOne), "written before we asked\n");
        for (Process jvm : List.of(exits, runs, hadOne)) {
            perfMaps.write((int) jvm.pid()).get(30, TimeUnit.SECONDS);
            assertThat(Files.readString(perfMapOf(jvm))).contains(JitCompiledBlocking.METHOD);
        }
        for (Process jvm : List.of(exits, hadOne)) {
            jvm.destroyForcibly();
            jvm.waitFor();
        }
        perfMaps.close();
        assertThat(perfMapOf(exits)).doesNotExist();
        assertThat(perfMapOf(runs)).as("its JVM still runs").exists();
        assertThat(perfMapOf(hadOne)).as("not ours").exists();
    }

    @Test
    void closingRemovesTheFileThatAnUnansweredAskLeftInTheJvmsWorkingDirectory() throws Exception {
        Process jvm = startJvm();
        int pid = (int) jvm.pid();
        Path trigger = workingDirectory.resolve(".attach_pid" + pid);
        Linux.kill(pid, SIGSTOP); // it cannot answer: the JDK's client waits, its file in place
        try {
            HotSpotPerfMaps closing = new HotSpotPerfMaps();
            CompletableFuture<Void> ask = closing.write(pid);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!Files.exists(trigger) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(trigger).as("made by the JDK's client").exists();
            long started = System.nanoTime();
            closing.close();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isBetween(900L, 3_000L);
            assertThat(trigger).doesNotExist();
            assertThat(ask).isNotDone();
        } finally {
            jvm.destroyForcibly(); // never continued: its pending SIGQUIT would print a thread dump
        }
    }

    @Test
    void thisJvmIsNotAsked() {
        CompletableFuture<Void> ask = perfMaps.write((int) ProcessHandle.current().pid());
        assertThatThrownBy(() -> ask.get(5, TimeUnit.SECONDS)).hasMessageContaining("this JVM");
    }
}
