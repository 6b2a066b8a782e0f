package dev.eventloopguardian.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Programs for the ring buffer tests, run at each context switch of a thread. Each run takes
 * a sequence number from element 0 of an ARRAY map (atomically: runs on different CPUs get
 * different numbers), writes a record, and counts a failed write in element 0 of a second
 * ARRAY, the way the guard counts drops. A record is
 * {@code u64 pid_tgid; u64 seq; u64 seq ^ PATTERN; u64 ~seq}, cut to {@code 20 + 4 * (seq & 3)}
 * bytes: lengths 20 to 32, so that most are not multiples of 8 and the padding is exercised.
 */
final class RingPrograms {
    static final long PATTERN = 0x5a5a_1234_a5a5_4321L;

    private RingPrograms() {
    }

    /** The program writes with {@code bpf_ringbuf_output(ring, &record, length, 0)}. */
    static Program output(BpfMap sequence, BpfMap ring, BpfMap drops) {
        Assembler asm = nextSequenceInR7(new Assembler(), sequence)
                .store(Size.DW, Reg.R10, -40, Reg.R7)
                .call(Helper.GET_CURRENT_PID_TGID)
                .store(Size.DW, Reg.R10, -48, Reg.R0)
                .loadImm64(Reg.R1, PATTERN)
                .alu(AluOp.XOR, Reg.R1, Reg.R7)
                .store(Size.DW, Reg.R10, -32, Reg.R1)
                .mov(Reg.R1, Reg.R7)
                .alu(AluOp.XOR, Reg.R1, -1)
                .store(Size.DW, Reg.R10, -24, Reg.R1)
                .mov(Reg.R3, Reg.R7).comment("length = 20 + 4 * (seq & 3): the verifier sees 20..32")
                .alu(AluOp.AND, Reg.R3, 3)
                .alu(AluOp.LSH, Reg.R3, 2)
                .alu(AluOp.ADD, Reg.R3, 20)
                .loadMapFd(Reg.R1, ring.fd())
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, -48)
                .mov(Reg.R4, 0)
                .call(Helper.RINGBUF_OUTPUT)
                .jump(JumpOp.JEQ, Reg.R0, 0, "out").comment("-EAGAIN when the ring is full");
        return countDropAndExit(asm, drops);
    }

    /**
     * The program reserves a 16-byte record {@code u64 seq; u64 ~seq}, then submits it when seq
     * is even and discards it when seq is odd.
     */
    static Program reserveAndDiscardOdd(BpfMap sequence, BpfMap ring, BpfMap drops) {
        return reserve(sequence, ring, drops, 16, true);
    }

    /**
     * The program reserves a {@code size}-byte record, writes {@code u64 seq; u64 ~seq} at its
     * start (the rest is whatever the ring held) and submits it, or discards it when
     * {@code discardOdd} and seq is odd.
     */
    static Program reserve(BpfMap sequence, BpfMap ring, BpfMap drops, int size, boolean discardOdd) {
        Assembler asm = nextSequenceInR7(new Assembler(), sequence)
                .loadMapFd(Reg.R1, ring.fd())
                .mov(Reg.R2, size)
                .mov(Reg.R3, 0)
                .call(Helper.RINGBUF_RESERVE)
                .jump(JumpOp.JEQ, Reg.R0, 0, "full")
                .store(Size.DW, Reg.R0, 0, Reg.R7)
                .mov(Reg.R1, Reg.R7)
                .alu(AluOp.XOR, Reg.R1, -1)
                .store(Size.DW, Reg.R0, 8, Reg.R1)
                .mov(Reg.R1, Reg.R0)
                .mov(Reg.R2, 0);
        if (discardOdd) {
            asm.jump(JumpOp.JSET, Reg.R7, 1, "discard");
        }
        asm.call(Helper.RINGBUF_SUBMIT)
                .jump("out");
        if (discardOdd) {
            asm.label("discard")
                    .call(Helper.RINGBUF_DISCARD)
                    .jump("out");
        }
        asm.label("full");
        return countDropAndExit(asm, drops);
    }

    /** {@code r7 = ++sequence[0]}, or exit when the lookup fails (it cannot for an array). */
    private static Assembler nextSequenceInR7(Assembler asm, BpfMap sequence) {
        return asm
                .store(Size.W, Reg.R10, -4, 0).comment("key 0")
                .loadMapFd(Reg.R1, sequence.fd())
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, -4)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jump(JumpOp.JEQ, Reg.R0, 0, "out")
                .mov(Reg.R7, 1)
                .atomicFetchAdd(Size.DW, Reg.R0, 0, Reg.R7)
                .alu(AluOp.ADD, Reg.R7, 1).comment("sequence numbers start at 1");
    }

    /** {@code drops[0] += 1} atomically, then {@code exit 0}; "out" skips the count. */
    private static Program countDropAndExit(Assembler asm, BpfMap drops) {
        return asm
                .loadMapFd(Reg.R1, drops.fd())
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, -4)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jump(JumpOp.JEQ, Reg.R0, 0, "out")
                .mov(Reg.R1, 1)
                .atomicAdd(Size.DW, Reg.R0, 0, Reg.R1)
                .label("out")
                .mov(Reg.R0, 0)
                .exit()
                .assemble();
    }

    /** A record written by {@link #output}, as the reader handed it over. */
    record Event(long pidTgid, long seq, int length, boolean intact) {
        static Event of(ByteBuffer record) {
            int length = record.remaining();
            long pidTgid = record.getLong(0);
            long seq = record.getLong(8);
            ByteBuffer expected = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder())
                    .putLong(pidTgid).putLong(seq).putLong(seq ^ PATTERN).putLong(~seq).flip().limit(length);
            return new Event(pidTgid, seq, length, record.duplicate().order(ByteOrder.nativeOrder()).equals(expected)
                    && length == expectedLength(seq));
        }

        static int expectedLength(long seq) {
            return 20 + 4 * (int) (seq & 3);
        }

        int tgid() {
            return (int) (pidTgid >>> 32);
        }

        int tid() {
            return (int) pidTgid;
        }
    }
}
