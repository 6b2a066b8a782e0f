package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessStatusTest {
    @Test
    void readsTheInnermostPidTheUidsAndTheCaughtSignals() {
        ProcessStatus status = ProcessStatus.parse("""
                Name:\tjava
                Uid:\t1000\t1001\t1002\t4294967294
                NSpid:\t31337\t412\t7
                SigBlk:\t0000000000000000
                SigIgn:\t0000000000001000
                SigCgt:\t2000000181005ccf
                """, "31337");
        assertThat(status.namespacePid()).isEqualTo("7");
        assertThat(status.uids()).containsExactlyInAnyOrder(1000, 1001, 1002, -2);
        assertThat(status.catches(3)).as("SIGQUIT, as a JVM catches it").isTrue();
        assertThat(status.catches(9)).as("SIGKILL, which nobody catches").isFalse();
        assertThat(status.catches(62)).isTrue();
    }

    @Test
    void withoutNSpidTheProcessSeesOurPid() {
        ProcessStatus status = ProcessStatus.parse("Name:\tpython3\nSigCgt:\t0000000000000000\n", "31337");
        assertThat(status.namespacePid()).isEqualTo("31337");
        assertThat(status.catches(3)).isFalse();
    }

    @Test
    void thisProcess() {
        ProcessStatus self = ProcessStatus.read(Path.of("/proc/self")).orElseThrow();
        assertThat(self.namespacePid()).isEqualTo(Long.toString(ProcessHandle.current().pid()));
        assertThat(self.catches(3)).as("HotSpot catches SIGQUIT").isTrue();
        assertThat(ProcessStatus.read(Path.of("/proc/0"))).isEmpty();
    }
}
