package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.GuardedCommand;
import dev.eventloopguardian.jvm.JvmLinks;
import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.report.ReportSettings;
import dev.eventloopguardian.report.Reporter;
import dev.eventloopguardian.sys.Executable;
import dev.eventloopguardian.sys.Linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs COMMAND as our child with the guard reporting, and prints what it reports until the
 * child exits. The child is a tiny shell that stops itself before exec: we attach the guard
 * to it while it is stopped, with {@code enable_on_exec}, and let it go, so COMMAND is guarded
 * from its first instruction and the shell before it never is.
 */
final class ReportSession {
    private static final int SIGCONT = 18;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private ReportSession() {
    }

    /**
     * Runs {@code command} with {@code guard} reporting as {@code settings} say; returns its exit
     * status as a shell reports it (128 + N when killed by signal N), or
     * {@link ExitCodes#REPORT_INCOMPLETE} when it exited 0 but the report could not be written
     * in full. Once COMMAND runs, nothing here stops it: not a report that cannot be written,
     * not a failure of ours.
     */
    static int run(Guard guard, GuardedCommand command, boolean allThreads, ReportSettings settings, JvmAgent jvmAgent)
            throws GuardException, Executable.NotRunnable, IOException, InterruptedException {
        command.checkGuardable();
        List<String> stub = new ArrayList<>();
        if (command.runAs().isPresent()) {
            stub.addAll(switchUser(command.runAs().get()));
        }
        stub.addAll(List.of("/bin/sh", "-c", "kill -STOP $$ && exec \"$@\"", "eventloop-guardian", command.path().toString()));
        stub.addAll(command.arguments());
        AtomicLong commandPid = new AtomicLong(-1);
        Optional<JvmLinks> jvms = jvmAgent.listen(guard, pid -> isWithinTree(pid, commandPid.get()), settings.notes());
        try (JvmLinks links = jvms.orElse(null);
             Reporter reporter = Reporter.open(guard, settings, JvmAgent.javaContexts(jvms))) {
            ProcessBuilder launcher = new ProcessBuilder(stub).inheritIO();
            launcher.environment().putAll(command.userEnvironment());
            if (links != null) {
                launcher.environment().putAll(jvmAgent.environmentFor(links, launcher.environment(), command.runAs(),
                        settings.notes()));
            }
            Process child = launcher.start();
            commandPid.set(child.pid());
            PerfEvent event;
            try {
                awaitStopped(child);
                event = guard.armProcessForExec((int) child.pid(), allThreads);
            } catch (IOException | GuardException | InterruptedException | RuntimeException e) {
                child.destroyForcibly(); // the stopped shell, before COMMAND ran
                throw e;
            }
            RuntimeException broken = null;
            try (event; SignalForwarding forwarding = SignalForwarding.to(child.pid())) {
                Linux.kill((int) child.pid(), SIGCONT);
                settings.observer().guarding(child.pid(), allThreads);
                try {
                    reporter.reportWhile(child::isAlive);
                } catch (RuntimeException bug) {
                    broken = bug;
                    settings.notes().println("eventloop-guardian: error: reporting stopped (" + bug
                            + "); COMMAND runs on, and we wait for it");
                    settings.notes().flush();
                    child.waitFor();
                }
            }
            settings.observer().detached();
            if (broken != null) {
                throw broken;
            }
            boolean complete = reporter.finish();
            int status = child.waitFor();
            return status == 0 && !complete ? ExitCodes.REPORT_INCOMPLETE : status;
        }
    }

    /** Whether {@code pid} is {@code root} or one of its descendants: a JVM of COMMAND's. */
    private static boolean isWithinTree(int pid, long root) {
        for (Optional<ProcessHandle> process = ProcessHandle.of(pid); process.isPresent(); process = process.get().parent()) {
            if (process.get().pid() == root) {
                return true;
            }
        }
        return false;
    }

    /**
     * With {@code --user}, the shell runs as that user already, through util-linux's setpriv:
     * the user's ids and groups, no capabilities. Its own exec of COMMAND then changes nothing,
     * so the kernel keeps the guard; it was checked as that user beforehand.
     */
    private static List<String> switchUser(Linux.Account account) throws GuardException {
        try {
            String setpriv = Executable.resolve("setpriv", "/usr/bin:/bin:/usr/sbin:/sbin").path().toString();
            return List.of(setpriv, "--reuid=" + account.uid(), "--regid=" + account.gid(), "--init-groups", "--");
        } catch (Executable.NotRunnable missing) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, "--report with --user runs COMMAND through setpriv, "
                    + "which is not installed: apt-get install util-linux (or run without --user)", null, missing);
        }
    }

    /** Waits until the child's shell has stopped itself ({@code T} in /proc/PID/stat). */
    private static void awaitStopped(Process child) throws IOException, InterruptedException {
        Path stat = Path.of("/proc", Long.toString(child.pid()), "stat");
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String line = Files.readString(stat);
            char state = line.charAt(line.lastIndexOf(')') + 2);
            if (state == 'T') {
                return;
            }
            if (!child.isAlive()) {
                throw new IOException("COMMAND's launcher exited with status " + child.exitValue() + " before it could be guarded");
            }
            Thread.sleep(1);
        }
        throw new IOException("COMMAND's launcher did not stop within " + STOP_TIMEOUT.toSeconds() + " s");
    }
}
