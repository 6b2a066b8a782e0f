package dev.eventloopguardian.guard;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.sys.Arch;
import dev.eventloopguardian.bpf.Feature;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@KernelTest(needs = Feature.KERNEL_BTF)
class KernelLayoutTest {
    @Test
    void resolvesWhatTheProgramReadsOnThisMachinesArchitecture() throws Exception {
        KernelLayout layout = KernelLayout.of(Btf.vmlinux(), Arch.current());
        assertThat(layout.taskState().size().bytes()).isEqualTo(4);
        assertThat(layout.firstArgument().size().bytes()).isEqualTo(8);
        // x86_64 keeps the syscall number in a 64-bit orig_ax, aarch64 in a 32-bit syscallno.
        assertThat(layout.syscallNumber().size().bytes()).isEqualTo(Arch.current() == Arch.X86_64 ? 8 : 4);
        assertThat(layout.arguments()).hasSize(6).allSatisfy(argument -> assertThat(argument.size().bytes()).isEqualTo(8));
        assertThat(layout.arguments().stream().map(KernelLayout.Field::offset).distinct()).hasSize(6)
                .doesNotContain(layout.syscallNumber().offset());
    }
}
