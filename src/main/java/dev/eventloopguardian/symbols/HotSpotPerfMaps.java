package dev.eventloopguardian.symbols;

import com.sun.tools.attach.VirtualMachine;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Asks HotSpot JVMs to write their perf maps, as {@code jcmd PID Compiler.perfmap} does (JDK 17
 * and later), through the Attach API of module {@code jdk.attach}. Running a diagnostic command
 * takes {@code sun.tools.attach.HotSpotVirtualMachine#executeJCmd}, in a package the module does
 * not export: the JVM needs {@code --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED}, or each
 * ask fails and says so.
 *
 * <p>What an ask costs the JVM: the first one starts its attach listener (the JDK's client creates
 * {@code .attach_pidN} in its working directory, sends it SIGQUIT and polls for its socket, the
 * first time after 100 ms); each ask then makes it write one line per piece of code in its code
 * cache. Root may ask a JVM of any user: HotSpot accepts a peer with its own uid or root's.
 *
 * <p>A JVM is not asked, and the ask fails at once with the reason, when its command line or the
 * environment variables it reads options from set {@code -XX:+DisableAttachMechanism} (without
 * perf data, the JDK's client cannot tell, and the JVM would answer each SIGQUIT with a thread
 * dump on its stdout), or when it has no attach listener yet and does not catch SIGQUIT (the
 * client would wait 10 s for nothing; a JVM started with {@code -Xrs}, which leaves SIGQUIT alone,
 * starts its listener at once instead).
 *
 * <p>A map that an ask made, where the JVM had none, is removed once the JVM has exited (looked
 * for at the next ask and at {@link #close}): names already read stay with the report, and a
 * session that reports on many short-lived JVMs must not fill {@code /tmp}. A map that was there
 * before, whose JVM still runs when this closes, or that our own view of the file system does not
 * reach, is left alone.
 *
 * <p>Asks run one after another on a worker thread, which ends after a second without work; at
 * most {@link #WAITING_ASKS} wait their turn, and more fail. {@link #close} waits a little for an
 * ask under way, then removes the {@code .attach_pidN} file the JDK's client may have left: its
 * thread, a daemon, would otherwise die with the JVM before its own clean-up, leaving the file
 * in the working directory of a JVM that exited meanwhile (a short COMMAND).
 */
public final class HotSpotPerfMaps implements PerfMapWriter, AutoCloseable {
    private static final int WAITING_ASKS = 16;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(1);
    private static final int SIGQUIT = 3;
    /** HotSpot's own order of reading options: each may turn a flag back, the last one wins. */
    private static final List<String> OPTIONS_BEFORE_COMMAND_LINE = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS");
    private static final String OPTIONS_AFTER_COMMAND_LINE = "_JAVA_OPTIONS";

    private final ThreadPoolExecutor worker = new ThreadPoolExecutor(0, 1, 1, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(WAITING_ASKS), work -> Thread.ofPlatform().daemon().name("perf-map-asks").unstarted(work));
    /** The files that start a JVM's attach listener which the ask under way may create and not remove yet. */
    private final Set<Path> triggers = ConcurrentHashMap.newKeySet();
    /** The perf maps that asks made, as real paths, with their JVMs; one per JVM that still ran at the last look. */
    private final Map<Path, ProcessHandle> written = new ConcurrentHashMap<>();

    @Override
    public CompletableFuture<Void> write(int pid) {
        try {
            return CompletableFuture.runAsync(() -> {
                try {
                    ask(pid);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }, worker);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IOException(WAITING_ASKS + " JVMs are already waiting to be asked "
                    + "for their perf maps"));
        }
    }

    private void ask(int pid) throws Exception {
        if (pid == ProcessHandle.current().pid()) {
            throw new IOException("it is this JVM, which the Attach API does not attach to");
        }
        Path proc = Path.of("/proc", Integer.toString(pid));
        ProcessStatus status = ProcessStatus.read(proc).orElseThrow(() -> new IOException("it has exited"));
        Optional<String> refusal = unaskable(proc, status);
        if (refusal.isPresent()) {
            throw new IOException(refusal.get());
        }
        Method executeJCmd = executeJCmd();
        removeMapsOfExitedJvms();
        Path map = proc.resolve("root/tmp/perf-" + status.namespacePid() + ".map");
        boolean hadMap = Files.exists(map, LinkOption.NOFOLLOW_LINKS);
        List<Path> ours = newTriggers(proc, status);
        triggers.addAll(ours);
        try {
            VirtualMachine jvm = VirtualMachine.attach(Integer.toString(pid));
            try (InputStream output = (InputStream) executeJCmd.invoke(jvm, "Compiler.perfmap")) {
                // The command has run once its output is read; HotSpot says nothing when it worked.
                output.readAllBytes();
            } catch (InvocationTargetException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            } finally {
                jvm.detach();
            }
            if (!hadMap) {
                remember(map, pid);
            }
        } finally {
            ours.forEach(triggers::remove);
        }
    }

    /**
     * Keeps the map an ask made, to remove once its JVM is gone: by the path that names it in our
     * own view, as {@code /proc/PID/root} goes with the process. A map that our view does not reach
     * (a {@code /tmp} mounted in the JVM's own mount namespace) is left: it goes with that mount.
     */
    private void remember(Path map, int pid) {
        try {
            Path real = map.toRealPath();
            Optional<ProcessHandle> jvm = ProcessHandle.of(pid);
            if (jvm.isPresent() && Files.isSameFile(real, map)) {
                written.put(real, jvm.get());
            }
        } catch (IOException | SecurityException e) {
            // out of our view, or gone already
        }
    }

    /** Removes the maps that asks made for JVMs that have exited since (a reused pid is another process). */
    private void removeMapsOfExitedJvms() {
        written.forEach((map, jvm) -> {
            if (!jvm.isAlive()) {
                written.remove(map);
                try {
                    Files.deleteIfExists(map);
                } catch (IOException | SecurityException e) {
                    // gone with its container's file system, or no longer ours to remove
                }
            }
        });
    }

    /**
     * Where the JDK's client may create the file that starts the JVM's attach listener,
     * {@code .attach_pidN}: in its working directory, else in its {@code /tmp}. As real paths, which
     * still name the files once the process is gone; only those that do not exist yet, so that
     * another tool's are left alone.
     */
    private static List<Path> newTriggers(Path proc, ProcessStatus status) {
        List<Path> paths = new ArrayList<>();
        for (String directory : List.of("cwd", "root/tmp")) {
            try {
                Path trigger = proc.resolve(directory).toRealPath().resolve(".attach_pid" + status.namespacePid());
                if (!Files.exists(trigger, LinkOption.NOFOLLOW_LINKS)) {
                    paths.add(trigger);
                }
            } catch (IOException | SecurityException e) {
                // not reachable from here: the client cannot create it there either
            }
        }
        return paths;
    }

    /**
     * Takes no more asks, waits up to a second for one under way, removes the {@code .attach_pidN}
     * files of an ask still under way then, and the maps that asks made for JVMs that have exited.
     */
    @Override
    public void close() {
        worker.shutdownNow(); // the asks that wait their turn are dropped
        try {
            if (!triggers.isEmpty()) {
                worker.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Path trigger : triggers) {
            try {
                Files.deleteIfExists(trigger);
            } catch (IOException | SecurityException e) {
                // gone with its directory, or never made
            }
        }
        removeMapsOfExitedJvms();
    }

    private static Method executeJCmd() throws IOException {
        try {
            Method method = Class.forName("sun.tools.attach.HotSpotVirtualMachine").getMethod("executeJCmd", String.class);
            if (!method.getDeclaringClass().getModule().isExported("sun.tools.attach", HotSpotPerfMaps.class.getModule())) {
                throw new IOException("running a diagnostic command needs the JVM option "
                        + "--add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED");
            }
            return method;
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new IOException("this JDK has no HotSpot Attach API (" + e + ")");
        }
    }

    /**
     * Why the Attach API must not be used on process {@code pid}, from what it shows of itself:
     * the JDK's client would send it SIGQUIT, and a JVM without an attach listener to start
     * prints a thread dump on its own stdout instead (or dies). Empty when it may.
     */
    public static Optional<String> whyNotAttachable(int pid) {
        Path proc = Path.of("/proc", Integer.toString(pid));
        try {
            Optional<ProcessStatus> status = ProcessStatus.read(proc);
            return status.isEmpty() ? Optional.of("it has exited") : unaskable(proc, status.get());
        } catch (IOException e) {
            return Optional.of("its options cannot be read (" + e.getMessage() + ")");
        }
    }

    /** Why the process at {@code proc} must not be asked, from what it shows of itself; empty when it may. */
    private static Optional<String> unaskable(Path proc, ProcessStatus status) throws IOException {
        List<String> options = new ArrayList<>();
        List<String> environment = nulSeparated(proc.resolve("environ"));
        for (String name : OPTIONS_BEFORE_COMMAND_LINE) {
            options.addAll(variable(environment, name));
        }
        options.addAll(nulSeparated(proc.resolve("cmdline")));
        options.addAll(variable(environment, OPTIONS_AFTER_COMMAND_LINE));
        if (options.lastIndexOf("-XX:+DisableAttachMechanism") > options.lastIndexOf("-XX:-DisableAttachMechanism")) {
            return Optional.of("it runs with -XX:+DisableAttachMechanism");
        }
        // The socket of a running attach listener, /tmp/.java_pidN under its root (N: its own pid).
        boolean listening = Files.exists(proc.resolve("root/tmp/.java_pid" + status.namespacePid()));
        if (!listening && !status.catches(SIGQUIT)) {
            return Optional.of("it has no attach listener and does not catch SIGQUIT, which would start one");
        }
        return Optional.empty();
    }

    private static List<String> variable(List<String> environment, String name) {
        return environment.stream().filter(entry -> entry.startsWith(name + "="))
                .flatMap(entry -> List.of(entry.substring(name.length() + 1).strip().split("\\s+")).stream()).toList();
    }

    private static List<String> nulSeparated(Path file) throws IOException {
        String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        return text.isEmpty() ? List.of() : List.of(text.split("\0"));
    }
}
