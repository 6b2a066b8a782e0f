package dev.eventloopguardian.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ExecutableTest {
    @TempDir
    Path dir;

    private Path file(String name, String content, String permissions) throws IOException {
        Path path = dir.resolve(name);
        Files.writeString(path, content);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        return path;
    }

    @Test
    void searchesPathInOrderAndSkipsNonExecutables() throws Exception {
        Path first = Files.createDirectory(dir.resolve("first"));
        Path second = Files.createDirectory(dir.resolve("second"));
        Files.writeString(first.resolve("tool"), "data");
        Files.writeString(second.resolve("tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(second.resolve("tool"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Executable found = Executable.resolve("tool", first + ":" + second);
        assertThat(found.path()).isEqualTo(second.resolve("tool"));
        assertThat(found.command()).isEqualTo("tool");
    }

    @Test
    void reportsNotFoundAndNotExecutableLikeAShell() throws Exception {
        Executable.NotRunnable missing = catchThrowableOfType(Executable.NotRunnable.class,
                () -> Executable.resolve("no-such-command-xyz", dir.toString()));
        assertThat(missing.found()).isFalse();
        assertThat(missing.getMessage()).contains("command not found");

        file("plain", "data", "rw-r--r--");
        Executable.NotRunnable denied = catchThrowableOfType(Executable.NotRunnable.class,
                () -> Executable.resolve("plain", dir.toString()));
        assertThat(denied.found()).isTrue();
        assertThat(denied.getMessage()).contains("not executable");

        Executable.NotRunnable directory = catchThrowableOfType(Executable.NotRunnable.class,
                () -> Executable.resolve(dir.toString() + "/", "/usr/bin"));
        assertThat(directory.found()).isTrue();
        assertThat(directory.getMessage()).contains("is a directory");
    }

    @Test
    void aNameWithASlashIsAPathAndIsNotSearched() throws Exception {
        Path script = file("run.sh", "#!/usr/bin/env bash\necho hi\n", "rwxr-xr-x");
        assertThat(Executable.resolve(script.toString(), "").path()).isEqualTo(script);
        assertThat(catchThrowableOfType(Executable.NotRunnable.class, () -> Executable.resolve("./nope", dir.toString()))
                .found()).isFalse();
    }

    @Test
    void readsTheSpecialBitsAndTheInterpreterLine() throws Exception {
        Path setuid = file("su-like", "\u007fELF", "rwxr-xr-x");
        Files.setAttribute(setuid, "unix:mode", 04755);
        Executable binary = Executable.resolve(setuid.toString(), "");
        assertThat(binary.setUid()).isTrue();
        assertThat(binary.setGid()).isFalse();
        assertThat(binary.interpreterLine()).isEmpty();

        Path script = file("shim", "#!/usr/bin/env bash\nexec foo\n", "rwxr-xr-x");
        assertThat(Executable.resolve(script.toString(), "").interpreterLine()).contains("/usr/bin/env bash");
    }
}
