package dev.eventloopguardian.symbols;

import dev.eventloopguardian.testing.Python;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real python3 that prints what a test asks it to (addresses, as the dynamic linker sees
 * them), then sleeps in clock_nanosleep until killed.
 */
final class Sleeper implements AutoCloseable {
    private static final int CLOCK_NANOSLEEP = 230;

    final Process process;
    final List<String> printed;

    private Sleeper(Process process, List<String> printed) {
        this.process = process;
        this.printed = printed;
    }

    /** Debian's interpreter where present (the brief's reference binary: a non-PIE, stripped EXEC). */
    static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : Python.executable();
    }

    /** Runs {@code script}, whose printed lines end with a line "ready", then sleeps. */
    static Sleeper start(String script, Map<String, String> environment) throws IOException {
        return start(List.of(), script, environment);
    }

    /** The same, through {@code launcher}, a command that ends by exec'ing its arguments. */
    static Sleeper start(List<String> launcher, String script, Map<String, String> environment) throws IOException {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of(python(), "-c", script + "\nprint('ready', flush=True)\nimport time\ntime.sleep(60)\n"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().putAll(environment);
        Process process = builder.start();
        List<String> printed = new ArrayList<>();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = out.readLine()) != null && !line.equals("ready"); ) {
            printed.add(line);
        }
        return new Sleeper(process, printed);
    }

    int pid() {
        return Math.toIntExact(process.pid());
    }

    /**
     * The user instruction pointer while it sleeps, the last field of /proc/PID/syscall
     * ("nr args... sp pc"), once the syscall is clock_nanosleep.
     */
    long sleepingPc() throws IOException, InterruptedException {
        Path syscall = Path.of("/proc", Integer.toString(pid()), "syscall");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String last = "";
        while (System.nanoTime() < deadline) {
            last = Files.readString(syscall).strip();
            String[] fields = last.split(" ");
            if (fields.length == 9 && Integer.parseInt(fields[0]) == CLOCK_NANOSLEEP) {
                return Long.parseUnsignedLong(fields[8].substring(2), 16);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("python never slept in clock_nanosleep; /proc/PID/syscall: " + last);
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
