package dev.eventloopguardian.testing;

import dev.eventloopguardian.bpf.Feature;
import dev.eventloopguardian.bpf.FeatureSupport;
import dev.eventloopguardian.bpf.FeatureSupport.Verdict;
import dev.eventloopguardian.sys.KernelVersion;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** When a missing feature skips a kernel test and when it fails it; no kernel needed. */
class KernelConditionTest {
    private static final FeatureSupport NO_PT_REGS = new FeatureSupport(Feature.TASK_PT_REGS, Verdict.MISSING,
            "bpf(BPF_PROG_LOAD): EINVAL (Invalid argument): invalid func unknown#175");
    private static final Optional<KernelVersion> LINUX_5_10 = Optional.of(KernelVersion.of(5, 10));
    private static final Optional<KernelVersion> LINUX_6_18 = Optional.of(KernelVersion.of(6, 18));

    @Test
    void anOldKernelSkipsWithTheReason() {
        KernelCondition.Outcome outcome = KernelCondition.outcome(NO_PT_REGS, LINUX_5_10, false);
        assertThat(outcome.fails()).isFalse();
        assertThat(outcome.reason()).startsWith("missing: bpf_task_pt_regs (needs Linux 5.15)").endsWith("on Linux 5.10");
    }

    @Test
    void aKernelThatShouldHaveTheFeatureFails() {
        KernelCondition.Outcome outcome = KernelCondition.outcome(NO_PT_REGS, LINUX_6_18, false);
        assertThat(outcome.fails()).isTrue();
        assertThat(outcome.reason()).contains("missing: bpf_task_pt_regs (needs Linux 5.15)", "invalid func unknown#175",
                "Linux 6.18 should have it");
    }

    @Test
    void aRunThatRequiresKernelTestsFailsEvenOnAnOldKernel() {
        KernelCondition.Outcome outcome = KernelCondition.outcome(NO_PT_REGS, LINUX_5_10, true);
        assertThat(outcome.fails()).isTrue();
        assertThat(outcome.reason()).contains("EVENTLOOP_GUARDIAN_REQUIRE_KERNEL=1");
    }

    @Test
    void anUnknownVersionOrAFeatureABuildMayLackSkips() {
        assertThat(KernelCondition.outcome(NO_PT_REGS, Optional.empty(), false).fails()).isFalse();
        FeatureSupport noBtf = new FeatureSupport(Feature.KERNEL_BTF, Verdict.MISSING, "");
        assertThat(KernelCondition.outcome(noBtf, LINUX_6_18, false).fails()).isFalse();
    }

    @Test
    void aProbeThatCannotTellFailsWhereTheFeatureShouldBe() {
        FeatureSupport unknown = new FeatureSupport(Feature.GET_STACK, Verdict.UNKNOWN, "ENOMEM");
        assertThat(KernelCondition.outcome(unknown, LINUX_6_18, false).fails()).isTrue();
    }

    @Test
    void noPermissionToProbeIsThePrivilegeSkip() {
        FeatureSupport denied = new FeatureSupport(Feature.RINGBUF, Verdict.NOT_PERMITTED, "bpf(BPF_MAP_CREATE): EPERM");
        assertThat(KernelCondition.outcome(denied, LINUX_6_18, false).fails()).as("even where the kernel has it").isFalse();
        assertThat(KernelCondition.outcome(denied, LINUX_6_18, true).fails()).isTrue();
    }

    @Test
    void theDefaultNeedsAreWhatTheGuardUses() throws Exception {
        Feature[] defaults = (Feature[]) KernelTest.class.getMethod("needs").getDefaultValue();
        assertThat(EnumSet.copyOf(List.of(defaults))).isEqualTo(Feature.guard());
    }
}
