package dev.eventloopguardian.bpf;

import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

@KernelTest(needs = Feature.PERF_EVENT_PROGRAM)
class SharedCountersTest {
    @Test
    void addsFromThreadsAreNotLost() throws Exception {
        try (SharedCounters counters = SharedCounters.create("elg_test_cnt", 2)) {
            CompletableFuture<?>[] adders = IntStream.range(0, 4).mapToObj(i -> CompletableFuture.runAsync(() -> {
                for (int n = 0; n < 10_000; n++) {
                    counters.add(1, 1);
                }
            })).toArray(CompletableFuture[]::new);
            CompletableFuture.allOf(adders).join();
            assertThat(counters.get(1)).isEqualTo(40_000);
            assertThat(counters.get(0)).isZero();
            assertThat(counters.add(0, -1)).isEqualTo(-1);
        }
    }

    /** What a guard program does with a counter: its address with no lookup, then a locked add. */
    @Test
    void aProgramReachesACounterWithoutALookup() throws Exception {
        try (SharedCounters counters = SharedCounters.create("elg_test_cnt", 2)) {
            Program program = new Assembler()
                    .loadMapValue(Reg.R1, counters.fd(), 8)
                    .load(Size.DW, Reg.R2, Reg.R1, 0)
                    .jump(JumpOp.JNE, Reg.R2, 0, "out")
                    .mov(Reg.R2, 1)
                    .atomicAdd(Size.DW, Reg.R1, 0, Reg.R2)
                    .label("out")
                    .mov(Reg.R0, 0)
                    .exit()
                    .assemble();
            try (LoadedProgram loaded = LoadedProgram.load(ProgramType.PERF_EVENT, "elg_test_cnt", program)) {
                assertThat(loaded.fd()).isPositive();
            }
        }
    }
}
