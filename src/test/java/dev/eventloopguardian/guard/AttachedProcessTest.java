package dev.eventloopguardian.guard;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.OpenDescriptors;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@KernelTest
class AttachedProcessTest {
    /** SIGWINCH: ignored by default, so the guarded child is not hurt if it is counted. */
    private static final Signal HARMLESS = new Signal(28);

    /**
     * The second attachment's events get the numbers the first one's had: a second close of the
     * first must leave them open, and the second attachment in place.
     */
    @Test
    void aSecondCloseLeavesAnotherAttachmentInPlace() throws Exception {
        Process child = new ProcessBuilder("sleep", "60").start();
        try (Guard guard = Guard.load(Policy.builder().signal(HARMLESS).build(), Btf.VMLINUX)) {
            long eventsBefore = perfEvents();
            AttachedProcess first = guard.attachToProcess((int) child.pid());
            first.close();
            try (AttachedProcess second = guard.attachToProcess((int) child.pid())) {
                first.close();
                assertThat(perfEvents()).isEqualTo(eventsBefore + second.threads());
            }
            assertThat(perfEvents()).isEqualTo(eventsBefore);
        } finally {
            child.destroyForcibly().waitFor();
        }
    }

    private static long perfEvents() {
        return OpenDescriptors.targets().stream().filter("anon_inode:[perf_event]"::equals).count();
    }
}
