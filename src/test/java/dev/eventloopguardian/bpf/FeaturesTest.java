package dev.eventloopguardian.bpf;

import dev.eventloopguardian.bpf.FeatureSupport.Verdict;
import dev.eventloopguardian.sys.KernelVersion;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The probes against the running kernel; this test needs no feature, it is what finds them. */
@KernelTest(needs = {})
class FeaturesTest {
    @Test
    void everyProbeFindsItsFeatureOnAKernelThatShouldHaveIt() {
        KernelVersion running = KernelVersion.running().orElseThrow();
        for (Feature feature : Feature.values()) {
            FeatureSupport support = Features.check(feature);
            if (feature.expectedIn(running)) {
                assertThat(support.verdict()).as(feature + " on Linux " + running + ": " + support).isEqualTo(Verdict.AVAILABLE);
            } else {
                assertThat(support.verdict()).as(feature + " on Linux " + running + ": " + support)
                        .isIn(Verdict.AVAILABLE, Verdict.MISSING);
            }
        }
    }

    @Test
    void aKernelWithEverythingTheGuardNeedsPassesEveryProbe() {
        // A kernel the guard runs on, such as this project's 6.18 (design.md): from 5.15, with BTF
        // (looked at here directly, not through the probe under test).
        KernelVersion running = KernelVersion.running().orElseThrow();
        boolean guardable = running.atLeast(Feature.TASK_PT_REGS.since())
                && Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"));
        assumeTrue(guardable, "Linux " + running + " cannot run the guard");
        assertThat(Features.firstUnavailable(Feature.guard())).as("on Linux " + running).isEmpty();
        assertThat(Features.firstUnavailable(EnumSet.noneOf(Feature.class))).isEmpty();
    }

    @Test
    void theKernelsOwnRefusalsOfAHelperAreReadAsMissing() {
        // Beyond every kernel's list: "invalid func".
        BpfException unknown = loadCalling(0x7fff);
        assertThat(Features.readFailure(true, unknown.errno(), unknown.verifierLog())).as(unknown.verifierLog())
                .isEqualTo(Verdict.MISSING);
        // A helper the kernel has, but not for perf_event programs (bpf_skb_store_bytes, 9).
        BpfException notForThisType = loadCalling(9);
        assertThat(Features.readFailure(true, notForThisType.errno(), notForThisType.verifierLog()))
                .as(notForThisType.verifierLog()).isEqualTo(Verdict.MISSING);
    }

    @Test
    void aProbeThatTheVerifierRejectsForAnotherReasonIsNotAMissingHelper() {
        // bpf_get_stack with nothing in its argument registers: the helper exists, the probe is wrong.
        Program broken = new Assembler().call(Helper.GET_STACK).mov(Reg.R0, 0).exit().assemble();
        BpfException rejection = catchThrowableOfType(BpfException.class,
                () -> LoadedProgram.load(ProgramType.PERF_EVENT, "", broken));
        assertThat(Features.readFailure(true, rejection.errno(), rejection.verifierLog())).as(rejection.verifierLog())
                .isEqualTo(Verdict.UNKNOWN);
    }

    private static BpfException loadCalling(int helperId) {
        Program program = Program.of(java.util.List.of(
                new Instruction(Opcode.CLASS_JMP | Opcode.CALL, 0, 0, (short) 0, helperId),
                new Instruction(Opcode.CLASS_ALU64 | AluOp.MOV.bits | Opcode.SOURCE_K, 0, 0, (short) 0, 0),
                new Instruction(Opcode.CLASS_JMP | Opcode.EXIT, 0, 0, (short) 0, 0)));
        return catchThrowableOfType(BpfException.class, () -> LoadedProgram.load(ProgramType.PERF_EVENT, "", program));
    }
}
