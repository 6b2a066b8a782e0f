package dev.eventloopguardian.cli;

import dev.eventloopguardian.bpf.Feature;
import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.btf.BtfException;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.KernelLayout;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.guard.Signal;
import dev.eventloopguardian.guard.UnknownSyscallException;
import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.perf.PerfException;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.sys.KernelVersion;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** {@code check}: is this machine ready, and does guarding work here end to end? */
final class CheckCommand {
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_PERFMON = 38;
    private static final int CAP_BPF = 39;
    private static final int SIGUSR1 = 10;
    /** How {@link Process#exitValue()} reports a child killed by a signal. */
    private static final int KILLED_BY_SIGNAL = 128;

    private final List<Boolean> results = new ArrayList<>();
    private final PrintWriter out;

    private CheckCommand(PrintWriter out) {
        this.out = out;
    }

    static CommandSpec spec() {
        CommandSpec spec = Specs.command("check", (parsed, out, err) -> new CheckCommand(out).run());
        spec.usageMessage().description(
                "Diagnoses this machine for eventloop-guardian, then proves guarding works end to end: a guarded "
                        + "'sleep' must be stopped by the guard's signal, and the same 'sleep' with nanosleep allowed "
                        + "must run clean. Prints PASS or FAIL per line; exits 0 when all pass, 1 otherwise.",
                "The end-to-end runs use SIGUSR1 instead of SIGABRT so that no core file is left behind.");
        return spec;
    }

    private int run() {
        Arch arch;
        try {
            arch = Arch.current();
            pass("architecture", arch.kernelName());
        } catch (UnsupportedOperationException e) {
            fail("architecture", e.getMessage());
            return finish();
        }
        checkKernelVersion();
        boolean btf = checkBtf(arch);
        boolean privileged = checkCapabilities();
        if (btf && privileged && checkLoad()) {
            checkAttach();
            checkEndToEnd();
        }
        return finish();
    }

    private int finish() {
        out.flush();
        return results.contains(false) ? ExitCodes.CHECK_FAILED : 0;
    }

    private void checkKernelVersion() {
        String release = read("/proc/sys/kernel/osrelease");
        Feature newest = Feature.TASK_PT_REGS;
        KernelVersion.parse(release).ifPresentOrElse(version -> {
            boolean recent = version.atLeast(newest.since());
            report(recent, "kernel", "Linux " + release + (recent ? "" : ": too old,") + " (needs " + newest.since()
                    + "+ for " + newest.description() + ")");
        }, () -> fail("kernel", "cannot parse the kernel release '" + release + "'"));
    }

    private boolean checkBtf(Arch arch) {
        try {
            long started = System.nanoTime();
            KernelLayout layout = KernelLayout.of(Btf.vmlinux(), arch);
            long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - started);
            return pass("BTF", Btf.VMLINUX + ": " + field(layout.taskState()) + ", " + field(layout.syscallNumber()) + ", "
                    + field(layout.firstArgument()) + " (read in " + micros / 1000.0 + " ms)");
        } catch (BtfException e) {
            return fail("BTF", e.getMessage());
        }
    }

    private static String field(KernelLayout.Field field) {
        return field.expression() + " @" + field.offset();
    }

    private boolean checkCapabilities() {
        long effective = capabilities();
        boolean bpf = (effective >>> CAP_BPF & 1) != 0;
        boolean perfmon = (effective >>> CAP_PERFMON & 1) != 0;
        boolean admin = (effective >>> CAP_SYS_ADMIN & 1) != 0;
        String held = (bpf ? "CAP_BPF " : "") + (perfmon ? "CAP_PERFMON " : "") + (admin ? "CAP_SYS_ADMIN" : "");
        boolean enough = (bpf && perfmon) || admin;
        report(enough, "capabilities", enough ? held.strip()
                : "missing CAP_BPF and CAP_PERFMON (have: " + (held.isBlank() ? "none" : held.strip()) + ")");
        if (!enough) {
            out.println(indent(guardHint()));
        }
        String paranoid = read("/proc/sys/kernel/perf_event_paranoid");
        pass("perf_event_paranoid", paranoid + (perfmon || admin ? " (CAP_PERFMON lets us open per-thread events at any level)"
                : " (without CAP_PERFMON, opening the event needs 1 or less)"));
        return enough;
    }

    private boolean checkLoad() {
        try (Guard guard = Guard.load(Policy.defaults(), Btf.VMLINUX)) {
            String helpers = guard.program().helpersCalled().stream().map(Helper::cName).collect(Collectors.joining(", "));
            return pass("load", "the default policy's program (" + guard.program().size()
                    + " instructions) passed the verifier; helpers: " + helpers);
        } catch (GuardException e) {
            fail("load", e.getMessage());
            String detail = Failures.detailWithRemedy(e);
            if (!detail.isEmpty()) {
                out.println(indent(detail));
            }
            return false;
        } catch (UnknownSyscallException e) {
            return fail("load", e.getMessage());
        }
    }

    private void checkAttach() {
        try (Guard guard = Guard.load(Policy.defaults(), Btf.VMLINUX);
             PerfEvent event = PerfEvent.contextSwitches(0, PerfEvent.Options.live(false))) {
            event.attach(guard.programFd());
            pass("attach", "a context-switch perf event on this thread took the program");
        } catch (GuardException | UnknownSyscallException | PerfException e) {
            fail("attach", e.getMessage());
        }
    }

    private void checkEndToEnd() {
        try {
            int blocked = runGuarded(List.of("--signal", "USR1", "--", "sleep", "0.2"));
            report(blocked == KILLED_BY_SIGNAL + SIGUSR1, "guard stops a blocking call",
                    "'sleep 0.2' under the guard " + describeExit(blocked) + " (expected: killed by SIGUSR1)");
            int allowed = runGuarded(List.of("--signal", "USR1", "--allow", "nanosleep,clock_nanosleep", "--", "sleep", "0.05"));
            report(allowed == 0, "guard allows an allowed wait",
                    "'sleep 0.05' with nanosleep allowed " + describeExit(allowed) + " (expected: exit 0)");
        } catch (IOException e) {
            fail("end to end", "cannot start a guarded child: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("end to end", "interrupted");
        }
    }

    /** Runs this same tool in a child JVM on {@code args}; returns its exit value. */
    private static int runGuarded(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-XX:-UsePerfData");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(args);
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!child.waitFor(30, TimeUnit.SECONDS)) {
            child.destroyForcibly();
            return -1;
        }
        return child.exitValue();
    }

    private static String describeExit(int status) {
        if (status < 0) {
            return "did not finish in 30 s";
        }
        return status > KILLED_BY_SIGNAL && status <= KILLED_BY_SIGNAL + 64
                ? "was killed by " + new Signal(status - KILLED_BY_SIGNAL).name() : "exited " + status;
    }

    private static long capabilities() {
        for (String line : read("/proc/self/status").split("\n")) {
            if (line.startsWith("CapEff:")) {
                return Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
            }
        }
        return 0;
    }

    private static String guardHint() {
        return "run as root (sudo), and use --user to run COMMAND as yourself";
    }

    private static String indent(String text) {
        return text.lines().map(line -> "      " + line).collect(Collectors.joining("\n"));
    }

    private static String read(String path) {
        try {
            return Files.readString(Path.of(path)).strip();
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    private boolean report(boolean ok, String name, String detail) {
        results.add(ok);
        out.printf("%s  %-30s %s%n", ok ? "PASS" : "FAIL", name, detail);
        out.flush();
        return ok;
    }

    private boolean pass(String name, String detail) {
        return report(true, name, detail);
    }

    private boolean fail(String name, String detail) {
        return report(false, name, detail);
    }
}
