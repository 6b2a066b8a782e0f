package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.GuardException.Kind;
import dev.eventloopguardian.guard.GuardException.Reason;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The remedies the command line adds to the library's facts: word for word what it printed when
 * the library wrote them itself.
 */
class FailuresTest {
    private static final Path COMMAND = Path.of("/opt/tool");

    @Test
    void missingCapabilitiesGetTheWaysToRunWithThem() {
        GuardException refused = new GuardException(Kind.PERMISSION, Reason.CAPABILITIES, null,
                "not allowed to load an eBPF program: EPERM", "Loading and attaching the guard needs CAP_BPF and "
                        + "CAP_PERFMON (or CAP_SYS_ADMIN).", null);
        assertThat(printed(refused)).isEqualTo("""
                eventloop-guardian: error: not allowed to load an eBPF program: EPERM
                Loading and attaching the guard needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN). Either:
                  - run as root:   sudo ./eventloop-guardian --user "$USER" COMMAND...   (COMMAND runs as you, still guarded)
                  - or grant the capabilities to the JDK's java binary:
                      sudo setcap cap_bpf,cap_perfmon+ep "$(readlink -f "$(command -v java)")"
                """);
    }

    /** attach and watch have no COMMAND to run as the user: their way to run as root is their own. */
    @Test
    void attachAndWatchSayHowTheyRunAsRoot() {
        GuardException refused = new GuardException(Kind.PERMISSION, Reason.CAPABILITIES, null, "EPERM", "Needs CAP_BPF.", null);
        StringWriter attach = new StringWriter();
        assertThat(Failures.report(refused, new PrintWriter(attach, true), Failures.ATTACH_AS_ROOT)).isEqualTo(ExitCodes.PERMISSION);
        assertThat(attach.toString()).contains("  - run as root:   sudo ./eventloop-guardian attach --pid PID ...\n")
                .doesNotContain("COMMAND");
        StringWriter watch = new StringWriter();
        assertThat(Failures.report(refused, new PrintWriter(watch, true), Failures.WATCH_AS_ROOT)).isEqualTo(ExitCodes.PERMISSION);
        assertThat(watch.toString()).contains("  - run as root:   sudo ./eventloop-guardian watch ...", "systemd unit")
                .doesNotContain("COMMAND");
    }

    @Test
    void anUnguardableCommandGetsWhatToChange() {
        assertThat(printed(unguardable(Reason.SET_USER_ID_PROCESS)))
                .endsWith("\nRun eventloop-guardian as a plain user or as root, not set-user-ID.\n");
        assertThat(printed(unguardable(Reason.SET_USER_ID_FILE)))
                .endsWith("\nRun it as its owner with --user, or run a copy without the set-user-ID bit.\n");
        assertThat(printed(unguardable(Reason.SET_GROUP_ID_FILE)))
                .endsWith("\nRun a copy without the set-group-ID bit (chmod g-s).\n");
        assertThat(printed(unguardable(Reason.FILE_CAPABILITIES)))
                .endsWith("\nRun it as root, or run a copy without them (setcap -r).\n");
        assertThat(printed(unguardable(Reason.UNREADABLE_FILE)))
                .endsWith("\nMake it readable (chmod o+r /opt/tool), or run it as its owner with --user.\n");
    }

    @Test
    void aFailureWithoutReasonIsPrintedAsTheLibrarySaysIt() {
        GuardException rejected = new GuardException(Kind.REJECTED, "the verifier rejected it", "verifier log:\nR2 !read_ok",
                null);
        assertThat(printed(rejected)).isEqualTo("""
                eventloop-guardian: error: the verifier rejected it
                verifier log:
                R2 !read_ok
                """);
    }

    private static GuardException unguardable(Reason reason) {
        return new GuardException(Kind.UNGUARDABLE, reason, COMMAND, "refusing to run /opt/tool: ...", null, null);
    }

    private static String printed(GuardException failure) {
        StringWriter err = new StringWriter();
        Failures.report(failure, new PrintWriter(err, true));
        return err.toString();
    }
}
