package dev.eventloopguardian.btf;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.opentest4j.TestAbortedException;

import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Lookups in the running kernel's BTF. Needs no privileges, only the file: skipped with the reason
 * printed where it is absent, and failing instead when EVENTLOOP_GUARDIAN_REQUIRE_KERNEL=1 (CI).
 */
class BtfVmlinuxTest {
    private static final String REQUIRE = "EVENTLOOP_GUARDIAN_REQUIRE_KERNEL";

    private static Btf btf;

    @BeforeAll
    static void readKernelBtf() throws BtfException {
        if (!Files.isReadable(Btf.VMLINUX)) {
            String reason = "BtfVmlinuxTest needs a readable " + Btf.VMLINUX + " (a kernel with CONFIG_DEBUG_INFO_BTF=y)";
            if ("1".equals(System.getenv(REQUIRE))) {
                throw new AssertionError(reason + ", and " + REQUIRE + "=1 says it must run");
            }
            System.err.println("SKIPPED " + reason + " (set " + REQUIRE + "=1 to make this a failure)");
            throw new TestAbortedException(reason);
        }
        btf = Btf.vmlinux();
    }

    @Test
    void taskStateIsAFourByteField() throws BtfException {
        assertThat(btf.member("task_struct", "__state").size()).isEqualTo(4);
    }

    @Test
    @EnabledIfSystemProperty(named = "os.arch", matches = "amd64")
    void findsWhatTheGuardReadsOnX86() throws BtfException {
        // Verified on the project's machines (Linux 6.18); pt_regs is ABI, task_struct depends on the build.
        assertThat(btf.member("task_struct", "__state")).isEqualTo(new Member("task_struct", "__state", 24, 4));
        assertThat(btf.member("pt_regs", "orig_ax")).isEqualTo(new Member("pt_regs", "orig_ax", 120, 8));
        assertThat(btf.member("pt_regs", "di")).isEqualTo(new Member("pt_regs", "di", 112, 8));
        assertThat(btf.member("task_struct", "thread_info.flags")).isEqualTo(
                new Member("task_struct", "thread_info.flags", 0, 8));
    }

    @Test
    void findsFieldsInsideAnonymousUnions() throws BtfException {
        // sk_buff { union { struct { next; prev; union { dev; dev_scratch; }; }; rbnode; ... }; ... }
        assertThat(btf.member("sk_buff", "next")).isEqualTo(new Member("sk_buff", "next", 0, 8));
        assertThat(btf.member("sk_buff", "dev")).isEqualTo(new Member("sk_buff", "dev", 16, 8));
    }

    @Test
    void findsFunctionsAndStructsById() {
        assertThat(btf.typeId("func", "bpf_task_pt_regs")).isPresent();
        assertThat(btf.typeId("struct", "task_struct")).isPresent();
        assertThat(btf.typeId("func", "no_such_function_in_any_kernel")).isEmpty();
    }

    @Test
    void explainsMistakesWithTheKernelsOwnNames() {
        assertThatThrownBy(() -> btf.member("task_struct", "state"))
                .hasMessageStartingWith("struct task_struct has no member \"state\" in /sys/kernel/btf/vmlinux;"
                        + " closest: __state");
        assertThatThrownBy(() -> btf.member("sk_buff", "pkt_type")).hasMessageContaining("is a bitfield");
    }
}
