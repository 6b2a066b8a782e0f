package dev.eventloopguardian.symbols;

import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.eventloopguardian.symbols.ProcessSymbolsLiveTest.NANOSLEEP_IN_LIBC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** A process in its own mount namespace, as in a container. Needs root, to mount. */
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
}
