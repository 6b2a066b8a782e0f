package dev.eventloopguardian.guard;

import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.sys.Executable;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Keeps the guard of an exec'd COMMAND alive whatever COMMAND does with its descriptors.
 *
 * <p>A perf event lives as long as a descriptor refers to it, and once we exec, the only one
 * is COMMAND's: a daemon that closes every inherited descriptor at start-up (or any
 * {@code closerange(3, ...)}) would drop its own guard, in silence. So before exec we hand a
 * copy to a keeper, a small shell that holds it and nothing else, for as long as this process
 * (which is COMMAND from exec on) lives. It is detached (its parent exits at once, so it is
 * not a child COMMAND could wait for), reads nothing, writes nothing, ignores the signals a
 * terminal or a stray {@code kill} would send, and leaves within a second of COMMAND's exit:
 * it checks once a second that the pid still runs with the same start time (so a reused pid
 * is not taken for COMMAND), sleeping in between in a {@code read -t} on a pipe nobody writes
 * to. Nothing stays behind: the kernel frees the event, and with it the program, when the last
 * of COMMAND and the keeper is gone.
 *
 * <p>Why a shell and not the kernel: every way to hold a BPF object without a process (a pin in
 * bpffs, a mount) outlives COMMAND and needs somebody to remove it, and a poll on the perf
 * event cannot tell when its threads are gone (it reports a hang-up at once for an event with
 * no ring buffer, and an inherited event may not have one). Bash is what the launcher runs on.
 */
final class GuardKeeper {
    static final String NAME = "eventloop-guardian-keeper";
    private static final String SEARCH_PATH = "/usr/bin:/bin:/usr/local/bin";

    // $1 COMMAND's pid, $2 its start time (field 22 of /proc/PID/stat), $3 the read end of a
    // pipe whose write end it also holds. The perf event is held by being open: its number is
    // passed only so that ps shows it. Fields after the ") " that ends the name start at field 3.
    // It leaves COMMAND's working directory, which it would keep busy (an unmount) after COMMAND.
    private static final String SCRIPT = """
            exec </dev/null >/dev/null 2>&1
            cd /
            trap '' HUP INT QUIT TERM USR1 USR2 ALRM TSTP TTIN TTOU PIPE WINCH
            while read -r stat <"/proc/$1/stat"; do
              fields=(${stat##*) })
              [[ ${fields[19]} == "$2" ]] || break
              read -r -t 1 -u "$3" _
            done &
            """;

    private final Path bash;
    private final String pid;
    private final String startTime;
    private final CompletableFuture<Integer> eventFd = new CompletableFuture<>();
    private final FutureTask<Void> started = new FutureTask<>(this::start);

    private GuardKeeper(Path bash, String pid, String startTime) {
        this.bash = bash;
        this.pid = pid;
        this.startTime = startTime;
    }

    /** The shell the keeper runs in, or why there is none. */
    static Path shell() throws GuardException {
        try {
            return Executable.resolve("bash", SEARCH_PATH).path();
        } catch (Executable.NotRunnable missing) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, "bash is not installed: eventloop-guardian keeps "
                    + "COMMAND's guard alive in a small bash process, so that COMMAND cannot drop it by closing its "
                    + "descriptors; install bash (apt-get install bash)", null, missing);
        }
    }

    /**
     * Checks what a keeper needs, as a dry run does: prepares one and lets it go before it
     * starts. The same steps as a real exec's, so that the AOT cache the launcher trains on a dry
     * run holds their classes too.
     */
    static void rehearse() throws GuardException {
        GuardKeeper keeper = prepare();
        keeper.cancel();
        keeper.awaitThread();
    }

    /**
     * Gets a keeper ready for this process: call it <em>before</em> the guard is armed. The keeper
     * is started from a thread of its own, and that thread must exist before the guard's event:
     * with {@code --all-threads} (perf's {@code inherit}), a thread the guarded thread creates
     * afterwards, and a process that thread forks, would carry a copy of the guard, armed at the
     * keeper's exec, and the keeper would be stopped the moment it waits.
     */
    static GuardKeeper prepare() throws GuardException {
        String pid = Integer.toString(Linux.pid());
        GuardKeeper keeper = new GuardKeeper(shell(), pid, startTimeOf(pid));
        Thread.ofPlatform().daemon().name("guard-keeper").start(keeper.started);
        return keeper;
    }

    /**
     * Starts the keeper of {@code event} and returns once it runs on its own. Call it just before
     * exec, with every descriptor but {@code event}'s close-on-exec: the keeper inherits what we have.
     */
    void keep(PerfEvent event) throws GuardException {
        eventFd.complete(event.fd());
        awaitThread();
    }

    /** Waits for the prepared thread to have started the keeper, or to have let it go. */
    private void awaitThread() throws GuardException {
        try {
            started.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the guard's keeper", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GuardException failed) {
                throw failed;
            }
            throw e.getCause() instanceof RuntimeException bug ? bug : new IllegalStateException(e.getCause());
        }
    }

    /** Lets the prepared thread go without starting a keeper: exec will not happen. */
    void cancel() {
        eventFd.cancel(false);
    }

    private Void start() throws GuardException {
        Linux.prepareSpawn(); // bound on this thread, while the guard is armed, off the exec's path
        int fd;
        try {
            fd = eventFd.join();
        } catch (CancellationException cancelled) {
            return null;
        }
        try {
            Linux.resetSignalMask(); // the keeper inherits this thread's mask
            spawn(bash, pid, startTime, fd);
        } catch (SyscallException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, "cannot start the guard's keeper: " + e.getMessage(),
                    null, e);
        }
        return null;
    }

    private static void spawn(Path bash, String pid, String startTime, int eventFd) throws GuardException {
        int[] pipe = Linux.inheritablePipe();
        try {
            // -p: bash would otherwise run the file $BASH_ENV names, and functions the environment exports.
            int launcher = Linux.spawn(bash.toString(), List.of(NAME, "-p", "-c", SCRIPT, NAME, pid, startTime,
                    Integer.toString(pipe[0]), "perf-event-fd=" + eventFd));
            // The launching shell forks the keeper and exits; reaping it here means COMMAND never
            // sees a child of ours, and its status says whether the fork went through.
            int status = Linux.waitForChild(launcher);
            if (status != 0) {
                throw new GuardException(GuardException.Kind.UNSUPPORTED, "the guard's keeper (" + bash
                        + ") failed to start: wait status " + status);
            }
        } finally {
            Linux.close(pipe[0]);
            Linux.close(pipe[1]);
        }
    }

    /** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
    static String startTimeOf(String pid) throws GuardException {
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return fields[19];
        } catch (IOException | RuntimeException e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, "cannot read /proc/" + pid + "/stat: " + e.getMessage(),
                    null, e);
        }
    }
}
