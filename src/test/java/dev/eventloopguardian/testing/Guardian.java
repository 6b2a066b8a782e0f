package dev.eventloopguardian.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs eventloop-guardian as users do, in its own JVM on this build's classes, and collects
 * what it did. Optional {@code prefix} words go before the JVM (e.g. {@code setpriv ...}).
 * {@link #run} feeds stdin and waits; {@link #start} hands back the live process, so that a
 * test can see its pid and decide when stdin gets input.
 */
public final class Guardian {
    private static final String MAIN = "dev.eventloopguardian.cli.Main";
    private static final String PICOCLI = "picocli.CommandLine";
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
    private String classpath = System.getProperty("java.class.path");
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

    /**
     * Starts the run with a core size limit of 0: a test that expects SIGABRT must not leave a
     * core file in the working directory on a machine whose {@code ulimit -c} allows one.
     */
    public Guardian noCoreDump() {
        return prefix("prlimit", "--core=0", "--");
    }

    /**
     * Runs the tool as uid/gid 65534 without any capability, from a copy of its classes and
     * picocli in {@code scratch} (a {@code @TempDir}: its parent must let every user in), since
     * the build's own class path may lie under a home directory that other users cannot enter.
     */
    public Guardian withoutPrivileges(Path scratch) {
        classpath = worldReadableCopy(scratch);
        return prefix("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--");
    }

    /** The environment the tool starts with: ours plus what {@link #env} added. */
    public Map<String, String> environment() {
        Map<String, String> all = new java.util.HashMap<>(System.getenv());
        all.putAll(environment);
        return all;
    }

    /**
     * The classes the tool loads for {@code arguments}, from the JVM's own log written to
     * {@code log}: for tests that a session loads nothing of a feature it did not ask for.
     */
    public static List<String> loadedClasses(Path log, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(javaCommand(List.of(arguments)));
        // After the launcher's options, which turn the JVM's logging off but for errors.
        command.add(command.indexOf("-cp"), "-Xlog:class+load=info:file=" + log);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new AssertionError("the tool failed with " + List.of(arguments) + ":\n" + output);
        }
        return Files.readAllLines(log);
    }

    /** The command line that runs the tool with {@code arguments}: {@code java ... Main ARGUMENTS}. */
    public static List<String> javaCommand(List<String> arguments) {
        return javaCommand(System.getProperty("java.class.path"), arguments);
    }

    /** The command line that runs the tool from {@code jar} with {@code arguments}, as the launcher does. */
    public static List<String> jarCommand(Path jar, List<String> arguments) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(jvmOptions(arguments));
        command.addAll(List.of("-jar", jar.toString()));
        command.addAll(arguments);
        return command;
    }

    private static List<String> javaCommand(String classpath, List<String> arguments) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(jvmOptions(arguments));
        command.addAll(List.of("-cp", classpath, MAIN));
        command.addAll(arguments);
        return command;
    }

    /**
     * The launcher's JVM options for these arguments, from the argument files it passes to java:
     * the common ones, then those of a guard that execs or of a session that stays, chosen by the
     * launcher's rule. Read here and passed inline, since a run as another user may not be
     * allowed to read the checkout.
     */
    private static List<String> jvmOptions(List<String> arguments) {
        boolean session = (!arguments.isEmpty() && List.of("attach", "watch").contains(arguments.getFirst()))
                || arguments.contains("--report");
        List<String> options = new ArrayList<>(readJvmOptions(Path.of("scripts", "jvm.options")));
        options.addAll(readJvmOptions(Path.of("scripts", session ? "jvm-session.options" : "jvm-guard.options")));
        return options;
    }

    private static List<String> readJvmOptions(Path file) {
        try {
            return Files.readAllLines(file).stream()
                    .map(line -> line.replaceFirst("#.*", "").strip())
                    .filter(line -> !line.isEmpty())
                    .flatMap(line -> Stream.of(line.split("\\s+")))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the launcher's JVM options", e);
        }
    }

    /** Runs the tool with {@code arguments}, feeding it the {@link #stdin} text, and waits for it. */
    public Result run(String... arguments) {
        try (Running running = start(arguments)) {
            running.write(stdin);
            running.closeStdin();
            return running.result();
        }
    }

    /** Starts the tool with {@code arguments}; its stdin stays open until the test closes it. */
    public Running start(String... arguments) {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(javaCommand(classpath, List.of(arguments)));
        ProcessBuilder builder = new ProcessBuilder(command);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        builder.environment().putAll(environment);
        try {
            return new Running(command, builder.start());
        } catch (IOException e) {
            throw new AssertionError("cannot start " + command, e);
        }
    }

    /** A started run: the process is the tool until it execs, then COMMAND, with the same pid. */
    public static final class Running implements AutoCloseable {
        private final List<String> command;
        private final Process process;
        private final OutputStream in;
        private final CompletableFuture<String> out;
        private final java.io.ByteArrayOutputStream errSoFar = new java.io.ByteArrayOutputStream();
        private final CompletableFuture<String> err;

        private Running(List<String> command, Process process) {
            this.command = command;
            this.process = process;
            this.in = process.getOutputStream();
            // A thread each: the common pool may have a single thread on a small machine, and a drain blocks.
            this.out = CompletableFuture.supplyAsync(() -> drain(process.getInputStream(), new java.io.ByteArrayOutputStream()),
                    Thread.ofPlatform().daemon()::start);
            this.err = CompletableFuture.supplyAsync(() -> drain(process.getErrorStream(), errSoFar),
                    Thread.ofPlatform().daemon()::start);
        }

        /** Waits until stderr holds {@code text}, for a test that must act once the tool has said something. */
        public void awaitStderr(String text, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!errSoFar.toString(StandardCharsets.UTF_8).contains(text)) {
                if (System.nanoTime() > deadline || !process.isAlive() && err.isDone()) {
                    throw new AssertionError("no '" + text + "' on stderr within " + timeout + ":\n" + errSoFar.toString(StandardCharsets.UTF_8));
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }
        }

        public long pid() {
            return process.pid();
        }

        /** What stderr has said so far, for a test that reads something the tool printed while it runs. */
        public String stderrSoFar() {
            return errSoFar.toString(StandardCharsets.UTF_8);
        }

        /** Writes {@code text} to stdin; a process that has stopped reading is not an error. */
        public void write(String text) {
            try {
                in.write(text.getBytes(StandardCharsets.UTF_8));
                in.flush();
            } catch (IOException ignored) {
                // COMMAND exited before reading its input.
            }
        }

        public void closeStdin() {
            try {
                in.close();
            } catch (IOException ignored) {
                // already gone
            }
        }

        /** Whether the process ends within {@code timeout}, stdin left as it is. */
        public boolean endsWithin(Duration timeout) {
            try {
                return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        /** Waits for the process to end (stdin left as it is) and returns how it ended. */
        public Result result() {
            if (!endsWithin(Duration.ofSeconds(TIMEOUT_SECONDS))) {
                process.destroyForcibly();
                throw new AssertionError("timed out after " + TIMEOUT_SECONDS + " s: " + command);
            }
            return new Result(process.exitValue(), out.join(), err.join());
        }

        /** Ends the process if it is still running: a failed test must not leave it behind. */
        @Override
        public void close() {
            closeStdin();
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }

    /** Reads {@code stream} to its end, keeping what came so far in {@code bytes} for a test to look at. */
    private static String drain(java.io.InputStream stream, java.io.ByteArrayOutputStream bytes) {
        try {
            byte[] chunk = new byte[8192];
            for (int read; (read = stream.read(chunk)) >= 0; ) {
                bytes.write(chunk, 0, read);
            }
        } catch (IOException e) {
            bytes.writeBytes(("(unreadable: " + e + ")").getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Copies the tool's classes and picocli into {@code scratch}, readable by every user. */
    private static String worldReadableCopy(Path scratch) {
        return worldReadableClassPath(scratch, List.of(MAIN, PICOCLI));
    }

    /**
     * Copies the class path entries that hold {@code classNames} into {@code scratch},
     * readable by every user, and returns them as a class path: for a JVM started as nobody.
     */
    public static String worldReadableClassPath(Path scratch, List<String> classNames) {
        return worldReadableCopy(scratch, String.join(":", classNames.stream().map(name -> codeSource(name).toString()).toList()));
    }

    /** Copies each entry of {@code classPath} into {@code scratch}, readable by every user; returns the copies' class path. */
    public static String worldReadableCopy(Path scratch, String classPath) {
        try {
            List<String> entries = new ArrayList<>();
            int i = 0;
            for (String entry : classPath.split(":")) {
                Path source = Path.of(entry);
                if (!Files.exists(source)) {
                    continue;
                }
                Path copy = scratch.resolve("cp" + i++ + (Files.isDirectory(source) ? "" : ".jar"));
                copyTree(source, copy);
                entries.add(copy.toString());
            }
            open(scratch);
            return String.join(":", entries);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path codeSource(String className) {
        try {
            return Path.of(Class.forName(className).getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (ClassNotFoundException | URISyntaxException e) {
            throw new AssertionError("cannot find the class path entry of " + className, e);
        }
    }

    private static void copyTree(Path source, Path target) throws IOException {
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path copy = target.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(copy);
                } else {
                    Files.copy(file, copy);
                }
                open(copy);
            }
        }
    }

    private static void open(Path path) throws IOException {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
    }
}
