package dev.eventloopguardian.symbols;

import dev.eventloopguardian.testing.JitCompiledBlocking;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.eventloopguardian.symbols.ProcessSymbolsLiveTest.NANOSLEEP_IN_LIBC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** A process in its own mount namespace (and pid namespace), as in a container. Needs root, to mount. */
@KernelTest(needs = {}) // root, to mount; loads nothing
class ContainerSymbolsTest {
    @Test
    void aProcessInAnotherMountNamespaceIsNamedFromItsOwnFiles(@TempDir Path directory) throws Exception {
        // A "container": libc on a tmpfs mounted only in the child's mount namespace. From here
        // the directory is empty; only /proc/PID/root (or map_files) reaches the file.
        assumeThat(Path.of("/usr/bin/unshare")).exists();
        Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
        Path hidden = Files.createDirectory(directory.resolve("container-lib"));
        String setup = "mount -t tmpfs none " + hidden + " && cp " + libc + " " + hidden + " && exec \"$@\"";
        try (Sleeper python = Sleeper.start(List.of("/usr/bin/unshare", "--mount", "--propagation", "private",
                "sh", "-c", setup, "sh"), "", Map.of("LD_LIBRARY_PATH", hidden.toString()))) {
            long pc = python.sleepingPc();
            assertThat(hidden.resolve("libc.so.6")).doesNotExist();
            assertThat(Files.readString(Path.of("/proc", Integer.toString(python.pid()), "maps")))
                    .contains(hidden.resolve("libc.so.6").toString());
            assertThat(ProcessSymbols.of(python.pid()).resolve(pc)).matches(NANOSLEEP_IN_LIBC);
        }
    }

    @Test
    void aJvmWithItsOwnPidsAndTmpIsAskedForItsPerfMapAndNamedFromIt() throws Exception {
        // A JVM that is pid 1 in its own pid namespace, with a /tmp of its own: it writes
        // /tmp/perf-1.map there, which only /proc/PID/root/tmp reaches from here.
        assumeThat(Path.of("/usr/bin/unshare")).exists();
        // Its classes are entered before /tmp is covered: a checkout under /tmp (CI's may be) stays
        // reachable as the working directory, through /proc/self/cwd (the path itself would name the new /tmp).
        Path classes = Path.of(JitCompiledBlocking.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> command = new ArrayList<>(List.of("/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount",
                "--propagation", "private", "sh", "-c", "cd \"$1\" && shift && mount -t tmpfs none /tmp && exec \"$@\"", "sh",
                classes.toString()));
        command.addAll(JitCompiledBlocking.commandWithClassPath("/proc/self/cwd", "waiter", "1", "60000"));
        Process unshare = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            assertThat(new BufferedReader(new InputStreamReader(unshare.getInputStream(), StandardCharsets.UTF_8)).readLine())
                    .isEqualTo("ready");
            ProcessHandle jvm = unshare.toHandle().descendants()
                    .filter(process -> process.info().command().orElse("").endsWith("/java")).findFirst().orElseThrow();
            int pid = (int) jvm.pid();
            assertThat(ProcessStatus.read(Path.of("/proc", Integer.toString(pid))).orElseThrow().namespacePid()).isEqualTo("1");

            new HotSpotPerfMaps().write(pid).get(30, TimeUnit.SECONDS);

            Path inside = Path.of("/proc", Integer.toString(pid), "root", "tmp", "perf-1.map");
            String line = Files.readAllLines(inside).stream().filter(text -> text.endsWith(" " + JitCompiledBlocking.METHOD))
                    .findFirst().orElseThrow();
            long start = Long.parseUnsignedLong(line.substring(2, line.indexOf(' ')), 16);
            assertThat(Path.of("/tmp/perf-" + pid + ".map")).as("nothing under our own /tmp").doesNotExist();
            assertThat(ProcessSymbols.of(pid).resolve(start + 4)).isEqualTo(JitCompiledBlocking.METHOD + "+0x4 (jit)");
        } finally {
            unshare.destroyForcibly();
        }
    }
}
