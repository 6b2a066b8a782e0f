package dev.eventloopguardian.bpf;

import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.OpenDescriptors;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

@KernelTest(needs = Feature.PERF_EVENT_PROGRAM)
class LoadedProgramTest {
    @Test
    void loadsAValidProgramAndReportsWhatTheKernelKept() throws Exception {
        Program program = new Assembler().mov(Reg.R0, 0).exit().assemble();
        try (LoadedProgram loaded = LoadedProgram.load(ProgramType.PERF_EVENT, "elg_test_ok", program)) {
            assertThat(loaded.fd()).isGreaterThan(2);
            ProgramInfo info = loaded.info();
            assertThat(info.id()).isPositive();
            assertThat(info.translatedBytes()).isEqualTo(program.size() * Instruction.BYTES);
        }
    }

    @Test
    void aRejectedProgramCarriesTheVerifierLog() {
        Program readsUnsetRegister = new Assembler().mov(Reg.R0, Reg.R2).exit().assemble();
        BpfException rejection = catchThrowableOfType(BpfException.class,
                () -> LoadedProgram.load(ProgramType.PERF_EVENT, "elg_test_bad", readsUnsetRegister));
        assertThat(rejection.isVerifierRejection()).isTrue();
        assertThat(rejection.isPermissionDenied()).isFalse();
        assertThat(rejection.verifierLog()).contains("R2 !read_ok");
        assertThat(rejection.getMessage()).contains("verifier rejected", "EACCES");
    }

    @Test
    void anUnknownHelperIsNamedInTheLog() {
        Program program = new Assembler().call(Helper.GET_CURRENT_TASK_BTF).mov(Reg.R0, 0).exit().assemble();
        byte[] bytes = program.bytes();
        bytes[4] = (byte) 0xff; // helper id 0xff..: beyond every kernel's list
        bytes[5] = (byte) 0xff;
        assertThatThrownBy(() -> LoadedProgram.load(ProgramType.PERF_EVENT, "elg_test_helper", Program.decode(bytes)))
                .isInstanceOf(BpfException.class)
                .satisfies(e -> assertThat(((BpfException) e).verifierLog()).contains("func"));
    }

    /** The second program gets the first one's number: a second close of the first must not close it. */
    @Test
    void aSecondCloseLeavesTheProgramThatReusedTheNumberOpen() throws Exception {
        Program program = new Assembler().mov(Reg.R0, 0).exit().assemble();
        LoadedProgram first = LoadedProgram.load(ProgramType.PERF_EVENT, "elg_test_first", program);
        first.close();
        try (LoadedProgram second = LoadedProgram.load(ProgramType.PERF_EVENT, "elg_test_second", program)) {
            assertThat(second.fd()).as("the kernel reuses the lowest free number").isEqualTo(first.fd());
            first.close();
            assertThat(OpenDescriptors.target(second.fd())).contains("anon_inode:bpf-prog");
            assertThat(second.info().id()).isPositive();
        }
    }
}
