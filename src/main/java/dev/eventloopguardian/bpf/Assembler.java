package dev.eventloopguardian.bpf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.eventloopguardian.bpf.Opcode.*;

/**
 * Builds an eBPF program where jumps name labels instead of counting slots:
 * <pre>{@code
 * new Assembler()
 *     .call(Helper.GET_CURRENT_TASK_BTF)
 *     .jump(JumpOp.JEQ, Reg.R0, 0, "out")
 *     ...
 *     .label("out")
 *     .mov(Reg.R0, 0)
 *     .exit()
 *     .assemble();
 * }</pre>
 * Offsets are resolved in {@link #assemble()}, which rejects unknown, duplicate and
 * dangling labels so that a generator bug never reaches the verifier as a wild jump.
 */
public final class Assembler {
    private final List<Instruction> slots = new ArrayList<>();
    private final Map<Integer, String> jumpTargets = new HashMap<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final Map<Integer, String> labelsAt = new HashMap<>();
    private final Map<Integer, String> comments = new HashMap<>();
    private int lastInstruction = -1;

    /** Names the position of the next instruction. */
    public Assembler label(String name) {
        if (labels.putIfAbsent(name, slots.size()) != null) {
            throw new IllegalStateException("label '" + name + "' defined twice");
        }
        labelsAt.put(slots.size(), name);
        return this;
    }

    /** Attaches a note to the instruction just emitted, shown by {@link Program#listing()}. */
    public Assembler comment(String text) {
        if (lastInstruction < 0) {
            throw new IllegalStateException("comment before any instruction");
        }
        comments.merge(lastInstruction, text, (a, b) -> a + "; " + b);
        return this;
    }

    /** {@code dst = imm} (64-bit, sign-extended). */
    public Assembler mov(Reg dst, int imm) {
        return alu(AluOp.MOV, dst, imm);
    }

    /** {@code dst = src} (64-bit). */
    public Assembler mov(Reg dst, Reg src) {
        return alu(AluOp.MOV, dst, src);
    }

    /** 64-bit {@code dst op= imm}. */
    public Assembler alu(AluOp op, Reg dst, int imm) {
        return emit(CLASS_ALU64 | op.bits | SOURCE_K, dst, Reg.R0, 0, imm);
    }

    /** 64-bit {@code dst op= src}. */
    public Assembler alu(AluOp op, Reg dst, Reg src) {
        return emit(CLASS_ALU64 | op.bits | SOURCE_X, dst, src, 0, 0);
    }

    /** 32-bit {@code dst op= imm}; the upper half of {@code dst} becomes zero. */
    public Assembler alu32(AluOp op, Reg dst, int imm) {
        return emit(CLASS_ALU | op.bits | SOURCE_K, dst, Reg.R0, 0, imm);
    }

    /** {@code dst = *(size *)(base + off)}. */
    public Assembler load(Size size, Reg dst, Reg base, int off) {
        return emit(CLASS_LDX | MODE_MEM | size.bits, dst, base, off, 0);
    }

    /** {@code *(size *)(base + off) = src}. */
    public Assembler store(Size size, Reg base, int off, Reg src) {
        return emit(CLASS_STX | MODE_MEM | size.bits, base, src, off, 0);
    }

    /** {@code *(size *)(base + off) = imm}. */
    public Assembler store(Size size, Reg base, int off, int imm) {
        return emit(CLASS_ST | MODE_MEM | size.bits, base, Reg.R0, off, imm);
    }

    /**
     * {@code lock *(size *)(base + off) += src}: an add that concurrent runs of the program on
     * other CPUs cannot lose, e.g. for a counter in a map value. Only 32 and 64 bits exist.
     */
    public Assembler atomicAdd(Size size, Reg base, int off, Reg src) {
        return emit(CLASS_STX | MODE_ATOMIC | atomicSize(size).bits, base, src, off, AluOp.ADD.bits);
    }

    /**
     * {@code src = atomic_fetch_add((size *)(base + off), src)}: adds and leaves the previous
     * value in {@code src}, so that concurrent runs each get a distinct one (a sequence number).
     */
    public Assembler atomicFetchAdd(Size size, Reg base, int off, Reg src) {
        return emit(CLASS_STX | MODE_ATOMIC | atomicSize(size).bits, base, src, off, AluOp.ADD.bits | ATOMIC_FETCH);
    }

    private static Size atomicSize(Size size) {
        if (size != Size.W && size != Size.DW) {
            throw new IllegalArgumentException("atomic operations are 32 or 64 bits wide, not " + size.cType);
        }
        return size;
    }

    /** {@code dst = value} for any 64-bit value (two slots). */
    public Assembler loadImm64(Reg dst, long value) {
        emit(Instruction.LD_IMM64, dst, Reg.R0, 0, (int) value);
        slots.add(new Instruction(0, 0, 0, (short) 0, (int) (value >>> 32)));
        return this;
    }

    /** {@code dst = &map} for the map behind file descriptor {@code mapFd} (two slots). */
    public Assembler loadMapFd(Reg dst, int mapFd) {
        emit(Instruction.LD_IMM64, dst, Reg.R0, 0, mapFd);
        slots.set(slots.size() - 1, new Instruction(Instruction.LD_IMM64, dst.number(), PSEUDO_MAP_FD, (short) 0, mapFd));
        slots.add(new Instruction(0, 0, 0, (short) 0, 0));
        return this;
    }

    /**
     * {@code dst = &value + offset} of element 0 of the array behind file descriptor
     * {@code mapFd} (two slots): the kernel resolves the address at load, so the program reads
     * the value with no lookup call.
     */
    public Assembler loadMapValue(Reg dst, int mapFd, int offset) {
        emit(Instruction.LD_IMM64, dst, Reg.R0, 0, mapFd);
        slots.set(slots.size() - 1, new Instruction(Instruction.LD_IMM64, dst.number(), PSEUDO_MAP_VALUE, (short) 0, mapFd));
        slots.add(new Instruction(0, 0, 0, (short) 0, offset));
        return this;
    }

    /** Unconditional {@code goto label}. */
    public Assembler jump(String label) {
        return emitJump(CLASS_JMP | JA, Reg.R0, Reg.R0, 0, label);
    }

    /** {@code if dst op imm goto label}, comparing all 64 bits. */
    public Assembler jump(JumpOp op, Reg dst, int imm, String label) {
        return emitJump(CLASS_JMP | op.bits | SOURCE_K, dst, Reg.R0, imm, label);
    }

    /** {@code if dst op src goto label}, comparing all 64 bits. */
    public Assembler jump(JumpOp op, Reg dst, Reg src, String label) {
        return emitJump(CLASS_JMP | op.bits | SOURCE_X, dst, src, 0, label);
    }

    /** {@code if wdst op imm goto label}, comparing the low 32 bits only. */
    public Assembler jump32(JumpOp op, Reg dst, int imm, String label) {
        return emitJump(CLASS_JMP32 | op.bits | SOURCE_K, dst, Reg.R0, imm, label);
    }

    /** Calls a kernel helper; arguments in R1-R5, result in R0, R1-R5 clobbered. */
    public Assembler call(Helper helper) {
        return emit(CLASS_JMP | CALL, Reg.R0, Reg.R0, 0, helper.id());
    }

    public Assembler exit() {
        return emit(CLASS_JMP | EXIT, Reg.R0, Reg.R0, 0, 0);
    }

    /** Resolves every label and returns the program. */
    public Program assemble() {
        List<Instruction> resolved = new ArrayList<>(slots);
        jumpTargets.forEach((pc, label) -> {
            Integer target = labels.get(label);
            if (target == null) {
                throw new IllegalStateException("jump at " + pc + " to undefined label '" + label + "'");
            }
            if (target >= slots.size()) {
                throw new IllegalStateException("label '" + label + "' has no instruction after it");
            }
            int offset = target - (pc + 1);
            if (offset < Short.MIN_VALUE || offset > Short.MAX_VALUE) {
                throw new IllegalStateException("jump at " + pc + " to '" + label + "' is out of range: " + offset);
            }
            Instruction jump = resolved.get(pc);
            resolved.set(pc, new Instruction(jump.code(), jump.dst(), jump.src(), (short) offset, jump.imm()));
        });
        return new Program(resolved, labelsAt, comments);
    }

    private Assembler emitJump(int code, Reg dst, Reg src, int imm, String label) {
        jumpTargets.put(slots.size(), label);
        return emit(code, dst, src, 0, imm);
    }

    private Assembler emit(int code, Reg dst, Reg src, int off, int imm) {
        if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + off + " does not fit 16 bits");
        }
        lastInstruction = slots.size();
        slots.add(new Instruction(code, dst.number(), src.number(), (short) off, imm));
        return this;
    }
}
