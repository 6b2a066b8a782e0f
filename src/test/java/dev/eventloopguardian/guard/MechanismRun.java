package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.ProgramInfo;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.perf.PerfEvent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command with one of the two guard mechanisms on chosen threads, for the end-to-end
 * benchmarks (not part of the product), with the default policy and SIGABRT:
 *
 * <pre>
 * MechanismRun switch guard COMMAND...          the sched_switch program, on COMMAND's main thread
 * MechanismRun switch other COMMAND...          the sched_switch program, on a sleep process beside COMMAND
 * MechanismRun switch threads PREFIX COMMAND... the sched_switch program, on COMMAND's threads named PREFIX*
 * MechanismRun perf threads PREFIX COMMAND...   a perf event on each of COMMAND's threads named PREFIX*
 * </pre>
 *
 * The perf form is what the Java agent does in-process (one perf event per event loop), without
 * its Java-level waits, so that it decides as the command line's guard does. Threads are guarded
 * just after COMMAND starts, and named threads as they appear (looked for every 50 ms). Exits with
 * COMMAND's status; prints the program's statistics on stderr.
 */
final class MechanismRun {
    private MechanismRun() {
    }

    private interface Marker {
        void guard(int tid) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || !List.of("switch", "perf").contains(args[0])
                || !List.of("guard", "other", "threads").contains(args[1]) || args[0].equals("perf") && !args[1].equals("threads")) {
            System.err.println("usage: MechanismRun switch guard|other COMMAND... | switch|perf threads PREFIX COMMAND...");
            System.exit(64);
        }
        boolean byName = args[1].equals("threads");
        List<String> command = Arrays.asList(args).subList(byName ? 3 : 2, args.length);
        if (args[0].equals("perf")) {
            try (Guard guard = Guard.load(Policy.defaults(), Btf.VMLINUX)) {
                List<PerfEvent> events = new ArrayList<>();
                int status = run(command, null, args[2], tid -> {
                    PerfEvent event = PerfEvent.contextSwitches(tid, PerfEvent.Options.live(false));
                    events.add(event);
                    event.attach(guard.programFd());
                    event.enable();
                });
                report("evloop_guard", guard.info());
                events.forEach(PerfEvent::close);
                System.exit(status);
            }
        }
        try (SchedSwitchGuard guard = SchedSwitchGuard.start(Policy.defaults())) {
            Process other = args[1].equals("other") ? new ProcessBuilder("sleep", "3600").start() : null;
            int status = run(command, other, byName ? args[2] : null, guard::guard);
            report("evloop_switch", guard.info());
            if (other != null) {
                other.destroyForcibly();
            }
            System.exit(status);
        }
    }

    /** Runs {@code command}, guarding {@code other}, or its threads named {@code prefix}*, or its main thread. */
    private static int run(List<String> command, Process other, String prefix, Marker marker) throws Exception {
        Process process = new ProcessBuilder(command).inheritIO().start();
        // A benchmark stops the server with SIGTERM to this runner: pass it on, and wait, or the
        // server lives on as an orphan that loads the machine for every later run.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
            }
            if (other != null) {
                other.destroyForcibly();
            }
        }));
        if (prefix == null) {
            marker.guard((int) (other == null ? process : other).pid());
            return process.waitFor();
        }
        Set<Integer> guarded = new HashSet<>();
        while (!process.waitFor(50, TimeUnit.MILLISECONDS)) {
            try (var tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
                for (Path task : tasks.toList()) {
                    int tid = Integer.parseInt(task.getFileName().toString());
                    if (!guarded.contains(tid) && Files.readString(task.resolve("comm")).startsWith(prefix)) {
                        marker.guard(tid);
                        guarded.add(tid);
                        System.err.println("guarding tid " + tid);
                    }
                }
            } catch (IOException | GuardException e) {
                // the process or the thread ended meanwhile
            }
        }
        return process.exitValue();
    }

    private static void report(String name, ProgramInfo info) {
        System.err.println(name + " " + info);
    }
}
