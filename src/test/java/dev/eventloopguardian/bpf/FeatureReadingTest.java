package dev.eventloopguardian.bpf;

import dev.eventloopguardian.bpf.FeatureSupport.Verdict;
import dev.eventloopguardian.sys.Errno;
import dev.eventloopguardian.sys.KernelVersion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How a failed probe is read, and what a kernel version should have: no kernel needed. */
class FeatureReadingTest {
    @Test
    void noPrivilegeIsNotAMissingFeature() {
        assertThat(Features.readFailure(false, Errno.EPERM, "")).isEqualTo(Verdict.NOT_PERMITTED);
        assertThat(Features.readFailure(true, Errno.EPERM, "")).isEqualTo(Verdict.NOT_PERMITTED);
        assertThat(Features.readFailure(true, Errno.EACCES, "")).as("EACCES before the verifier ran")
                .isEqualTo(Verdict.NOT_PERMITTED);
    }

    @Test
    void aTypeTheKernelDoesNotKnowIsMissing() {
        assertThat(Features.readFailure(false, Errno.EINVAL, "")).isEqualTo(Verdict.MISSING);
        assertThat(Features.readFailure(false, Errno.E2BIG, "")).as("an attr field this kernel is older than")
                .isEqualTo(Verdict.MISSING);
    }

    @Test
    void aHelperIsMissingOnlyWhenTheVerifierSaysSo() {
        // The three ways kernel/bpf/verifier.c refuses a helper, old kernels and new.
        assertThat(Features.readFailure(true, Errno.EINVAL, "0: (85) call unknown#175\ninvalid func unknown#175\n"))
                .isEqualTo(Verdict.MISSING);
        assertThat(Features.readFailure(true, Errno.EINVAL, "unknown func bpf_task_pt_regs#175\n"))
                .isEqualTo(Verdict.MISSING);
        assertThat(Features.readFailure(true, Errno.EINVAL, "program of this type cannot use helper bpf_skb_store_bytes#9"))
                .isEqualTo(Verdict.MISSING);
        // Anything else is the probe's own fault: it must not pass for an old kernel.
        assertThat(Features.readFailure(true, Errno.EINVAL, "R1 type=scalar expected=ctx\n")).isEqualTo(Verdict.UNKNOWN);
        assertThat(Features.readFailure(true, Errno.EACCES, "R2 !read_ok\n")).isEqualTo(Verdict.UNKNOWN);
        assertThat(Features.readFailure(false, Errno.ENOMEM, "")).isEqualTo(Verdict.UNKNOWN);
    }

    @Test
    void aKernelShouldHaveWhatItsReleaseBrought() {
        assertThat(Feature.TASK_PT_REGS.expectedIn(KernelVersion.of(5, 15))).isTrue();
        assertThat(Feature.TASK_PT_REGS.expectedIn(KernelVersion.of(6, 18))).isTrue();
        assertThat(Feature.TASK_PT_REGS.expectedIn(KernelVersion.of(5, 14))).isFalse();
        assertThat(Feature.RINGBUF.expectedIn(KernelVersion.of(5, 10))).isTrue();
        assertThat(Feature.GET_CURRENT_TASK_BTF.expectedIn(KernelVersion.of(5, 10))).isFalse();
        // A kernel may be built without BTF at any version: its absence is never a broken kernel.
        assertThat(Feature.KERNEL_BTF.expectedIn(KernelVersion.of(6, 18))).isFalse();
    }

    @Test
    void theReasonNamesTheFeatureAndTheReleaseThatBroughtIt() {
        assertThat(new FeatureSupport(Feature.TASK_PT_REGS, Verdict.MISSING, "invalid func unknown#175").reason())
                .isEqualTo("missing: bpf_task_pt_regs (needs Linux 5.15)");
        assertThat(new FeatureSupport(Feature.KERNEL_BTF, Verdict.MISSING, "").reason())
                .isEqualTo("missing: kernel BTF (/sys/kernel/btf/vmlinux) (needs Linux 5.4 built with CONFIG_DEBUG_INFO_BTF)");
        assertThat(new FeatureSupport(Feature.RINGBUF, Verdict.NOT_PERMITTED, "bpf(BPF_MAP_CREATE): EPERM").reason())
                .isEqualTo("no permission to probe for BPF_MAP_TYPE_RINGBUF maps: bpf(BPF_MAP_CREATE): EPERM");
    }
}
