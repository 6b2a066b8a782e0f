package dev.eventloopguardian.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs eventloop-guardian as users do, in its own JVM on this build's classes, and collects
 * what it did. Optional {@code prefix} words go before the JVM (e.g. {@code setpriv ...}).
 */
public final class Guardian {
    private static final String MAIN = "dev.eventloopguardian.cli.Main";
    private static final long TIMEOUT_SECONDS = 60;

    /** How a run ended. Java reports death by signal N as 128 + N. */
    public record Result(int status, String stdout, String stderr) {
        public boolean killedBy(int signal) {
            return status == 128 + signal;
        }

        @Override
        public String toString() {
            return "exit status " + status + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private final List<String> prefix = new ArrayList<>();
    private Path directory;
    private String stdin = "";
    private final Map<String, String> environment = new java.util.HashMap<>();

    public static Guardian guardian() {
        return new Guardian();
    }

    public Guardian prefix(String... words) {
        prefix.addAll(List.of(words));
        return this;
    }

    public Guardian in(Path directory) {
        this.directory = directory;
        return this;
    }

    public Guardian stdin(String text) {
        this.stdin = text;
        return this;
    }

    public Guardian env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    /** The command line that starts the tool: {@code java ... Main}, ready for arguments. */
    public static List<String> javaCommand() {
        return List.of(ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), MAIN);
    }

    public Result run(String... arguments) {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(javaCommand());
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        builder.environment().putAll(environment);
        try {
            Process process = builder.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(process.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(process.getErrorStream()));
            try (var in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // COMMAND exited before reading its input.
            }
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("timed out after " + TIMEOUT_SECONDS + " s: " + command);
            }
            return new Result(process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new AssertionError("cannot start " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String drain(java.io.InputStream stream) {
        try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
