package dev.eventloopguardian.bpf;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AssemblerTest {
    private static String hex(Program program) {
        return HexFormat.of().formatHex(program.bytes());
    }

    @Test
    void encodesTheKernelsBytesForEachInstructionForm() {
        // Expected bytes as clang/llvm-objdump print them for the same instructions.
        assertThat(hex(new Assembler().mov(Reg.R0, 0).exit().assemble()))
                .isEqualTo("b700000000000000" + "9500000000000000");
        assertThat(hex(new Assembler().mov(Reg.R6, Reg.R1).assemble())).isEqualTo("bf16000000000000");
        assertThat(hex(new Assembler().load(Size.W, Reg.R1, Reg.R0, 24).assemble())).isEqualTo("6101180000000000");
        assertThat(hex(new Assembler().load(Size.DW, Reg.R6, Reg.R0, 120).assemble())).isEqualTo("7906780000000000");
        assertThat(hex(new Assembler().store(Size.DW, Reg.R10, -8, Reg.R1).assemble())).isEqualTo("7b1af8ff00000000");
        assertThat(hex(new Assembler().store(Size.W, Reg.R10, -4, 7).assemble())).isEqualTo("620afcff07000000");
        assertThat(hex(new Assembler().alu32(AluOp.AND, Reg.R1, 1).assemble())).isEqualTo("5401000001000000");
        assertThat(hex(new Assembler().alu(AluOp.ADD, Reg.R2, Reg.R3).assemble())).isEqualTo("0f32000000000000");
        assertThat(hex(new Assembler().call(Helper.SEND_SIGNAL_THREAD).assemble())).isEqualTo("8500000075000000");
    }

    @Test
    void wideLoadsTakeTwoSlotsAndMapLoadsMarkTheSourceRegister() {
        Program wide = new Assembler().loadImm64(Reg.R1, 0x1122334455667788L).assemble();
        assertThat(wide.size()).isEqualTo(2);
        assertThat(hex(wide)).isEqualTo("1801000088776655" + "0000000044332211");
        Program map = new Assembler().loadMapFd(Reg.R1, 5).assemble();
        assertThat(hex(map)).isEqualTo("1811000005000000" + "0000000000000000");
        assertThat(map.listing()).contains("r1 = map[fd:5]");
        // BPF_PSEUDO_MAP_VALUE (2): the fd in the first slot, the offset into the value in the second.
        Program value = new Assembler().loadMapValue(Reg.R1, 5, 8).assemble();
        assertThat(hex(value)).isEqualTo("1821000005000000" + "0000000008000000");
        assertThat(value.listing()).contains("r1 = map[fd:5][0]+8");
    }

    @Test
    void jumpsResolveLabelsForwardAndBackwardCountingFromTheNextSlot() {
        Program program = new Assembler()
                .label("top")
                .jump(JumpOp.JEQ, Reg.R1, 0, "out")   // pc 0 -> pc 3: offset +2
                .loadImm64(Reg.R2, 1)                    // pc 1-2: the wide load counts twice
                .label("out")
                .jump32(JumpOp.JNE, Reg.R1, 7, "top")  // pc 3 -> pc 0: offset -4
                .exit()
                .assemble();
        assertThat(program.instructions().get(0).off()).isEqualTo((short) 2);
        assertThat(program.instructions().get(0).code()).isEqualTo(0x15);
        assertThat(program.instructions().get(3).off()).isEqualTo((short) -4);
        assertThat(program.instructions().get(3).code()).isEqualTo(0x56); // JMP32 | JNE | K
    }

    @Test
    void rejectsUndefinedDuplicateAndDanglingLabels() {
        assertThatThrownBy(() -> new Assembler().jump("nowhere").exit().assemble())
                .hasMessageContaining("undefined label 'nowhere'");
        assertThatThrownBy(() -> new Assembler().label("a").exit().label("a"))
                .hasMessageContaining("defined twice");
        assertThatThrownBy(() -> new Assembler().jump("end").exit().label("end").assemble())
                .hasMessageContaining("no instruction after it");
    }

    @Test
    void listingUsesVerifierSyntaxLabelsAndComments() {
        Program program = new Assembler()
                .call(Helper.GET_CURRENT_TASK_BTF)
                .load(Size.W, Reg.R1, Reg.R0, 24).comment("task->__state")
                .jump(JumpOp.JSET, Reg.R1, 1, "out")
                .mov(Reg.R1, 6)
                .call(Helper.SEND_SIGNAL_THREAD)
                .label("out")
                .mov(Reg.R0, 0)
                .exit()
                .assemble();
        assertThat(program.listing()).isEqualTo("""
                   0: call bpf_get_current_task_btf#158
                   1: r1 = *(u32 *)(r0 +24)                  ; task->__state
                   2: if r1 & 0x1 goto out
                   3: r1 = 6
                   4: call bpf_send_signal_thread#117
                out:
                   5: r0 = 0
                   6: exit
                """);
        assertThat(program.helpersCalled()).containsExactly(Helper.GET_CURRENT_TASK_BTF, Helper.SEND_SIGNAL_THREAD);
    }

    @Test
    void atomicAddsEncodeAsLlvmObjdumpPrintsThemAndListAsTheVerifierLogDoes() {
        // llvm-objdump -d: "db 21 00 00 00 00 00 00  lock *(u64 *)(r1 + 0) += r2"
        //                  "c3 3a f8 ff 00 00 00 00  lock *(u32 *)(r10 - 8) += r3"
        //                  "db 21 00 00 01 00 00 00  r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)"
        Program add64 = new Assembler().atomicAdd(Size.DW, Reg.R1, 0, Reg.R2).assemble();
        Program add32 = new Assembler().atomicAdd(Size.W, Reg.R10, -8, Reg.R3).assemble();
        Program fetch64 = new Assembler().atomicFetchAdd(Size.DW, Reg.R1, 0, Reg.R2).assemble();
        Program fetch32 = new Assembler().atomicFetchAdd(Size.W, Reg.R0, 4, Reg.R3).assemble();
        assertThat(hex(add64)).isEqualTo("db21000000000000");
        assertThat(hex(add32)).isEqualTo("c33af8ff00000000");
        assertThat(hex(fetch64)).isEqualTo("db21000001000000");
        assertThat(hex(fetch32)).isEqualTo("c330040001000000");
        // The kernel's disassembler (kernel/bpf/disasm.c) writes them this way.
        assertThat(add64.listing()).isEqualTo("   0: lock *(u64 *)(r1 +0) += r2\n");
        assertThat(add32.listing()).isEqualTo("   0: lock *(u32 *)(r10 -8) += r3\n");
        assertThat(fetch64.listing()).isEqualTo("   0: r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)\n");
        assertThat(fetch32.listing()).isEqualTo("   0: r3 = atomic_fetch_add((u32 *)(r0 +4), r3)\n");
        assertThat(Program.decode(fetch64.bytes()).instructions()).isEqualTo(fetch64.instructions());
    }

    @Test
    void atomicOperationsExistOnlyFor32And64Bits() {
        assertThatThrownBy(() -> new Assembler().atomicAdd(Size.B, Reg.R1, 0, Reg.R2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 or 64 bits");
        assertThatThrownBy(() -> new Assembler().atomicFetchAdd(Size.H, Reg.R1, 0, Reg.R2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not u16");
    }

    @Test
    void decodingRoundTripsTheEncoding() {
        Program program = new Assembler().mov(Reg.R3, -5).load(Size.H, Reg.R4, Reg.R10, -16).exit().assemble();
        assertThat(Program.decode(program.bytes()).instructions()).isEqualTo(program.instructions());
        assertThat(Program.decode(program.bytes()).listing()).contains("r3 = -5", "r4 = *(u16 *)(r10 -16)");
    }
}
