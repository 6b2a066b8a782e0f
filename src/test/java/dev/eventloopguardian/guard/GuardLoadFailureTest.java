package dev.eventloopguardian.guard;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.OpenDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A {@link Guard#load} that fails leaves no descriptor behind: in a user's JVM, which lives on
 * after the failure, a reporting policy's maps (an 8 MiB ring among them) would stay until exit.
 * The failures are those a caller can provoke after the maps exist; a failure after the program
 * loaded cannot be provoked from outside and shares the same cleanup.
 */
@KernelTest
class GuardLoadFailureTest {
    /** Enough failed loads that a leak shows as growth however the JVM's own files come and go. */
    private static final int ATTEMPTS = 3;

    @Test
    void anUnknownSyscallLeavesNoDescriptor() {
        Policy typo = Policy.builder().report(true).allow("no_such_syscall").build();
        assertNoDescriptorLeft(() -> Guard.load(typo, Btf.VMLINUX), UnknownSyscallException.class);
    }

    @Test
    void aFailureInsideGenerationLeavesNoDescriptor() {
        // So many allowed fds that the jumps to the rule's end no longer fit the instruction's 16 bits.
        Policy.Builder builder = Policy.builder().report(true);
        for (int fd = 0; fd < 40_000; fd++) {
            builder.allowFd("read", fd);
        }
        Policy tooLarge = builder.build();
        assertNoDescriptorLeft(() -> Guard.load(tooLarge, Btf.VMLINUX), IllegalStateException.class);
    }

    private static void assertNoDescriptorLeft(Executable failingLoad, Class<? extends Throwable> failure) {
        assertThrows(failure, failingLoad); // once first, so that the classes and BTF reading it needs are open already
        List<String> before = OpenDescriptors.targets();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            assertThrows(failure, failingLoad);
        }
        List<String> after = OpenDescriptors.targets();
        assertThat(after.size()).as("descriptors opened and not closed: %s", OpenDescriptors.added(before, after))
                .isLessThanOrEqualTo(before.size());
    }
}
