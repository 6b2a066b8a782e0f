package dev.eventloopguardian.guard;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A guard that counts Java-level waits: the kernel's verifier takes its program, signalling and reporting. */
@KernelTest
class JavaWaitGuardTest {
    private static final Set<Integer> JAVA_WAITS = Set.of(3, 4, 5);

    @Test
    void theVerifierTakesTheJavaWaitCheckWhenSignallingAndWhenReporting() throws Exception {
        for (boolean report : new boolean[] {false, true}) {
            Policy.Builder policy = Policy.builder().countJavaWaits(JAVA_WAITS).report(report);
            try (Guard guard = Guard.load(policy.build(), Btf.VMLINUX)) {
                assertThat(guard.program().listing()).contains("bpf_probe_read_user");
                guard.watchJavaThread(1234, 0x7f00_0000_1000L);
                guard.forgetJavaThread(1234);
            }
        }
    }

    @Test
    void aGuardThatDoesNotCountJavaWaitsHasNoJavaThreads() throws Exception {
        try (Guard guard = Guard.load(Policy.defaults(), Btf.VMLINUX)) {
            assertThatThrownBy(() -> guard.watchJavaThread(1234, 0x1000)).isInstanceOf(IllegalStateException.class);
        }
    }
}
