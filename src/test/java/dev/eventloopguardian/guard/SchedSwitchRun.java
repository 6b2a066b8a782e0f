package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.ProgramInfo;

import java.util.Arrays;
import java.util.List;

/**
 * The sched_switch prototype around a command, for bench/end-to-end/pingpong.sh (not part of the
 * product): {@code SchedSwitchRun guard COMMAND...} guards the command's main thread,
 * {@code SchedSwitchRun other COMMAND...} guards a {@code sleep} process beside it instead, so the
 * program runs at every switch on the machine while the command is unguarded. The thread is
 * marked just after the command starts. Exits with the command's status; prints the program's
 * statistics ({@code run_cnt run_time_ns}) on stderr.
 */
final class SchedSwitchRun {
    private SchedSwitchRun() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !List.of("guard", "other").contains(args[0])) {
            System.err.println("usage: SchedSwitchRun guard|other COMMAND...");
            System.exit(64);
        }
        List<String> command = Arrays.asList(args).subList(1, args.length);
        try (SchedSwitchGuard guard = SchedSwitchGuard.start(Policy.defaults())) {
            Process other = args[0].equals("other") ? new ProcessBuilder("sleep", "3600").start() : null;
            Process process = new ProcessBuilder(command).inheritIO().start();
            guard.guard((int) (other == null ? process : other).pid());
            int status = process.waitFor();
            ProgramInfo info = guard.info();
            System.err.println("evloop_switch " + info);
            if (other != null) {
                other.destroyForcibly();
            }
            System.exit(status);
        }
    }
}
