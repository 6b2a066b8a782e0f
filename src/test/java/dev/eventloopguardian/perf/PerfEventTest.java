package dev.eventloopguardian.perf;

import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.OpenDescriptors;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@KernelTest(needs = {})
class PerfEventTest {
    /**
     * The kernel hands out the lowest free number, so the second event gets the first one's: a
     * second close of the first must not close it (in a user's JVM, it could be any file).
     */
    @Test
    void aSecondCloseLeavesTheEventThatReusedTheNumberOpen() throws Exception {
        PerfEvent first = PerfEvent.contextSwitches(0, PerfEvent.Options.live(false));
        first.close();
        try (PerfEvent second = PerfEvent.contextSwitches(0, PerfEvent.Options.live(false))) {
            assertThat(second.fd()).as("the kernel reuses the lowest free number").isEqualTo(first.fd());
            first.close();
            assertThat(OpenDescriptors.target(second.fd())).contains("anon_inode:[perf_event]");
            second.enable();
            second.disable();
        }
    }
}
