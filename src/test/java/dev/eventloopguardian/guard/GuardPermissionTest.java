package dev.eventloopguardian.guard;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingSupplier;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Refused for want of privileges, the library says what is missing and nothing of how to get it
 * with a command line: it may run inside a user's JVM, where "sudo ./eventloop-guardian --user"
 * means nothing. The command line adds its remedy (see cli/FailuresTest). The refusals are real:
 * made on a thread that took on the ids of nobody, as the kernel checks the calling thread's.
 */
@KernelTest
class GuardPermissionTest {
    @Test
    void loadingWithoutCapabilitiesSaysWhichAreMissing() throws Exception {
        GuardException refused = asNobody(() -> Guard.load(Policy.defaults(), Btf.VMLINUX));
        assertFactual(refused);
        assertThat(refused.getMessage()).contains("not allowed to load an eBPF program");
    }

    @Test
    void attachingWithoutCapabilitiesSaysWhichAreMissingAndTheParanoidLevel() throws Exception {
        try (Guard guard = Guard.load(Policy.builder().signal(new Signal(28)).build(), Btf.VMLINUX)) {
            GuardException refused = asNobody(() -> guard.attachToProcess(1)); // init, root's
            assertFactual(refused);
            assertThat(refused.getMessage()).contains("kernel.perf_event_paranoid is ");
        }
    }

    private static void assertFactual(GuardException refused) {
        assertThat(refused.kind()).isEqualTo(GuardException.Kind.PERMISSION);
        assertThat(refused.reason()).isEqualTo(GuardException.Reason.CAPABILITIES);
        assertThat(refused.detail()).contains("CAP_BPF", "CAP_PERFMON");
        assertThat(refused.getMessage() + "\n" + refused.detail())
                .doesNotContain("sudo", "setcap", "eventloop-guardian ", "--user", "$USER");
    }

    /** What {@code action} threw, run on a thread of its own with nobody's uid, gid and groups. */
    private static GuardException asNobody(ThrowingSupplier<?> action) throws Exception {
        Linux.Account nobody = Linux.accountByName("nobody").orElseThrow();
        CompletableFuture<GuardException> refused = new CompletableFuture<>();
        Thread.ofPlatform().name("elg-as-nobody").start(() -> {
            try {
                Linux.impersonateOnThisThread(nobody); // for good: the thread ends after the action
                Object unexpected = action.get();
                refused.completeExceptionally(new AssertionError("nobody was allowed: " + unexpected));
            } catch (GuardException e) {
                refused.complete(e);
            } catch (Throwable t) {
                refused.completeExceptionally(t);
            }
        });
        return refused.get(30, TimeUnit.SECONDS);
    }
}
