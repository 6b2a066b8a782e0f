package dev.eventloopguardian.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Linux#spawn}, whose posix_spawn is called through the syscall downcall's shape: the
 * arguments must arrive, the child's pid come back, and posix_spawn's error number (its int
 * result, not errno) become the exception.
 */
class SpawnTest {
    @Test
    void theChildGetsItsArgumentsAndItsPidComesBack(@TempDir Path directory) throws Exception {
        Path written = directory.resolve("argv");
        int pid = Linux.spawn("/bin/sh", List.of("sh", "-c", "printf '%s|%s' \"$0\" \"$$\" > \"$1\"", "child-zero", written.toString()));

        int status = Linux.waitForChild(pid);

        assertThat(status).as("wait status: exited with 0").isZero();
        assertThat(Files.readString(written)).isEqualTo("child-zero|" + pid);
    }

    @Test
    void aPathThatCannotBeRunIsPosixSpawnsErrorNumber(@TempDir Path directory) {
        String missing = directory.resolve("no-such-program").toString();

        assertThatThrownBy(() -> Linux.spawn(missing, List.of(missing))).isInstanceOf(SyscallException.class)
                .satisfies(e -> assertThat(((SyscallException) e).is(Errno.ENOENT)).isTrue());
    }
}
