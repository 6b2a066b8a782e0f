package dev.eventloopguardian.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * scripts/jdk.sh's {@code path_java}, which the launcher asks for the JDK of the java on PATH
 * without forking: a link is told by its inode among /usr/lib/jvm's JDKs, a link elsewhere is
 * followed, and a plain file is its own JDK's.
 */
class JdkScriptTest {
    private static String pathJava(String path) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("bash", "-c", "source scripts/jdk.sh && PATH=\"$1\" && path_java && printf %s \"$REPLY\"",
                "bash", path).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return process.exitValue() == 0 ? output : "(none: " + output + ")";
    }

    private static Path thisJdk() {
        return Path.of(ProcessHandle.current().info().command().orElseThrow()).getParent().getParent();
    }

    @Test
    void aLinkToAJdkUnderUsrLibJvmIsThatJdk(@TempDir Path bin) throws Exception {
        Path jdk = thisJdk();
        Files.createSymbolicLink(bin.resolve("java"), jdk.resolve("bin/java"));

        String found = pathJava(bin + ":/usr/bin");

        assertThat(Path.of(found).resolve("bin/java")).isRegularFile();
        assertThat(Files.isSameFile(Path.of(found, "bin", "java"), jdk.resolve("bin/java"))).as(found).isTrue();
    }

    @Test
    void aLinkElsewhereIsFollowedAndAPlainFileIsItsOwnJdks(@TempDir Path directory) throws Exception {
        Path fakeJdk = Files.createDirectories(directory.resolve("opt/somejdk/bin"));
        Path java = Files.writeString(fakeJdk.resolve("java"), "#!/bin/sh\n");
        java.toFile().setExecutable(true);
        Path bin = Files.createDirectories(directory.resolve("bin"));
        Files.createSymbolicLink(bin.resolve("java"), java);

        assertThat(pathJava(bin + ":/usr/bin")).isEqualTo(directory.resolve("opt/somejdk").toRealPath().toString());
        assertThat(pathJava(fakeJdk.toString())).isEqualTo(fakeJdk.getParent().toString());
    }

    @Test
    void noJavaOnPathIsNone(@TempDir Path empty) throws Exception {
        assertThat(pathJava(empty.toString())).startsWith("(none");
    }
}
