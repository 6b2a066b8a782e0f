package dev.eventloopguardian.sys;

import dev.eventloopguardian.guard.SyscallTable;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class NrTest {
    @Test
    void everyNumberWeCallByMatchesTheFullTableOnBothArchitectures() {
        for (Arch arch : Arch.values()) {
            SyscallTable table = SyscallTable.of(arch);
            for (Nr nr : Nr.values()) {
                assertThat(table.number(nr.kernelName()))
                        .as("%s on %s", nr.kernelName(), arch)
                        .hasValue(nr.on(arch));
            }
        }
    }
}
