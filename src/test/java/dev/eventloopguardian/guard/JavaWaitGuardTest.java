package dev.eventloopguardian.guard;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A guard that counts Java-level waits: the kernel's verifier takes its program, signalling and reporting. */
@KernelTest
class JavaWaitGuardTest {
    private static final JavaWaitStates JAVA_WAITS = new JavaWaitStates(3, 4, 5);
    private static final JavaThreadWaits WAITS = new JavaThreadWaits(0x7f00_0000_1008L, 0x7f00_0000_1000L,
            0x7f00_0000_1800L, 0x7f00_0000_4000L, 0x7f00_0000_4080L, 0x7f00_0000_3f00L, 0x7f00_0000_3f80L);

    @Test
    void theVerifierTakesTheJavaWaitCheckWhenSignallingAndWhenReporting() throws Exception {
        for (boolean report : new boolean[] {false, true}) {
            Policy.Builder policy = Policy.builder().countJavaWaits(JAVA_WAITS).report(report);
            try (Guard guard = Guard.load(policy.build(), Btf.VMLINUX)) {
                assertThat(guard.program().listing()).contains("bpf_probe_read_user");
                guard.watchJavaThread(1234, WAITS);
                guard.forgetJavaThread(1234);
            }
        }
    }

    @Test
    void aGuardThatDoesNotCountJavaWaitsHasNoJavaThreads() throws Exception {
        try (Guard guard = Guard.load(Policy.defaults(), Btf.VMLINUX)) {
            assertThatThrownBy(() -> guard.watchJavaThread(1234, WAITS)).isInstanceOf(IllegalStateException.class);
        }
    }
}
