package dev.eventloopguardian.packaging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The release archive {@code mvn package} writes, unpacked and installed as a user would: {@code tar xzf}, then
 * {@code install.sh --prefix}. For the *IT tests, which run after {@code package}.
 */
final class Release {
    static final Path TARGET = Path.of("target").toAbsolutePath();
    /** The interpreter itself, readable by any user (python3 on PATH may be a shim under /root). */
    static final String PYTHON = "/usr/bin/python3";
    static final String BLOCKING_PYTHON = "import time; time.sleep(0.05)";

    private Release() {
    }

    record Run(int status, String out, String err) {
        String both() {
            return out + err;
        }
    }

    /** The archive's tree, unpacked under {@code directory}. */
    static Path unpack(Path directory) throws Exception {
        Path archive;
        try (Stream<Path> files = Files.list(TARGET)) {
            archive = files.filter(f -> f.getFileName().toString().matches("eventloop-guardian-.*\\.tar\\.gz"))
                    .findFirst().orElseThrow(() -> new AssertionError("no release archive in target/: run mvn package"));
        }
        Run tar = run(List.of("tar", "-xzf", archive.toString(), "-C", directory.toString()), Map.of());
        assertThat(tar.status()).as(tar.err()).isZero();
        String name = archive.getFileName().toString().replace(".tar.gz", "");
        return directory.resolve(name);
    }

    /** Unpacks the archive under {@code scratch} and installs it with {@code install.sh --prefix}; returns the prefix. */
    static Path install(Path scratch) throws Exception {
        openToAll(scratch);
        Path unpacked = unpack(Files.createDirectory(scratch.resolve("unpacked")));
        Path prefix = scratch.resolve("prefix");
        Run install = run(List.of(unpacked.resolve("install.sh").toString(), "--prefix", prefix.toString()), Map.of());
        assertThat(install.status()).as(install.both()).isZero();
        assertThat(install.out()).contains("eventloop-guardian: installed in " + prefix);
        return prefix;
    }

    /** JUnit makes temporary directories for their owner only; a test that runs the tool as nobody opens them. */
    static void openToAll(Path directory) throws IOException {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static Run run(List<String> command, Map<String, String> environment) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        Process process = builder.start();
        process.getOutputStream().close();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        String out = read(process.getInputStream());
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
        return new Run(process.exitValue(), out, err.join());
    }

    static List<String> command(Object... parts) {
        List<String> command = new ArrayList<>();
        for (Object part : parts) {
            if (part instanceof List<?> list) {
                list.forEach(p -> command.add(p.toString()));
            } else {
                command.add(part.toString());
            }
        }
        return command;
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
