package dev.eventloopguardian.bpf;

import java.nio.ByteBuffer;
import java.util.Locale;

import static dev.eventloopguardian.bpf.Opcode.*;

/**
 * One 8-byte eBPF instruction slot: {@code u8 code; u8 dst:4, src:4; s16 off; s32 imm}.
 * A 64-bit immediate load takes two slots; the second has code 0 and carries the high word.
 */
public record Instruction(int code, int dst, int src, short off, int imm) {
    public static final int BYTES = 8;

    static final int LD_IMM64 = CLASS_LD | Size.DW.bits | MODE_IMM;

    public Instruction {
        if ((code & ~0xff) != 0 || (dst & ~0xf) != 0 || (src & ~0xf) != 0) {
            throw new IllegalArgumentException("field out of range in " + code + "/" + dst + "/" + src);
        }
    }

    /** Appends the kernel's encoding; {@code out} must be little-endian on the machines we support. */
    public void encode(ByteBuffer out) {
        out.put((byte) code).put((byte) (src << 4 | dst)).putShort(off).putInt(imm);
    }

    public static Instruction decode(ByteBuffer in) {
        int code = in.get() & 0xff;
        int regs = in.get() & 0xff;
        return new Instruction(code, regs & 0xf, regs >>> 4, in.getShort(), in.getInt());
    }

    boolean isWideLoad() {
        return code == LD_IMM64;
    }

    boolean isJump() {
        int cls = instructionClass(code);
        int op = code & 0xf0;
        return (cls == CLASS_JMP || cls == CLASS_JMP32) && op != CALL && op != EXIT;
    }

    /**
     * The instruction as the kernel's verifier log writes it; {@code target} names the jump
     * target (a label or {@code pc+N}) and {@code next} is the following slot of a wide load.
     */
    String format(String target, Instruction next) {
        int cls = instructionClass(code);
        String d = "r" + dst;
        String s = "r" + src;
        switch (cls) {
            case CLASS_ALU64, CLASS_ALU -> {
                String prefix = cls == CLASS_ALU64 ? "r" : "w";
                AluOp op = AluOp.of(code);
                String operand = (code & SOURCE_X) != 0 ? prefix + src : Integer.toString(imm);
                if (op == AluOp.NEG) {
                    return prefix + dst + " = -" + prefix + dst;
                }
                return prefix + dst + " " + op.symbol + " " + operand;
            }
            case CLASS_LDX -> {
                return d + " = *(" + sizeOf(code).cType + " *)(" + s + " " + signed(off) + ")";
            }
            case CLASS_STX -> {
                String memory = "(" + sizeOf(code).cType + " *)(" + d + " " + signed(off) + ")";
                return mode(code) == MODE_ATOMIC ? atomic(memory, s) : "*" + memory + " = " + s;
            }
            case CLASS_ST -> {
                return "*(" + sizeOf(code).cType + " *)(" + d + " " + signed(off) + ") = " + imm;
            }
            case CLASS_LD -> {
                if (code == LD_IMM64) {
                    long high = next == null ? 0 : next.imm();
                    if (src == PSEUDO_MAP_FD) {
                        return d + " = map[fd:" + imm + "]";
                    }
                    if (src == PSEUDO_MAP_VALUE) {
                        return d + " = map[fd:" + imm + "][0]+" + high;
                    }
                    return d + " = 0x" + Long.toHexString(high << 32 | (imm & 0xffff_ffffL)) + " ll";
                }
                return String.format("(%02x) legacy packet load", code);
            }
            case CLASS_JMP, CLASS_JMP32 -> {
                int op = code & 0xf0;
                if (op == CALL) {
                    return "call " + Helper.describe(imm);
                }
                if (op == EXIT) {
                    return "exit";
                }
                if (op == JA) {
                    return "goto " + target;
                }
                String prefix = cls == CLASS_JMP ? "r" : "w";
                String right = (code & SOURCE_X) != 0 ? prefix + src : hex(imm);
                return "if " + prefix + dst + " " + JumpOp.of(code).symbol + " " + right + " goto " + target;
            }
            default -> {
                return String.format("(%02x) unknown", code);
            }
        }
    }

    /**
     * Atomic add, and, or and xor, with or without fetch, in the kernel's syntax; xchg and
     * cmpxchg, which we never emit, are only shown raw when decoded.
     */
    private String atomic(String target, String s) {
        int op = imm & ~ATOMIC_FETCH;
        if (op != AluOp.ADD.bits && op != AluOp.AND.bits && op != AluOp.OR.bits && op != AluOp.XOR.bits) {
            return String.format("(%02x) atomic op 0x%x on *%s", code, imm, target);
        }
        AluOp alu = AluOp.of(op);
        if ((imm & ATOMIC_FETCH) == 0) {
            return "lock *" + target + " " + alu.symbol + " " + s;
        }
        String width = sizeOf(code) == Size.DW ? "64" : "";
        return s + " = atomic" + width + "_fetch_" + alu.name().toLowerCase(Locale.ROOT) + "(" + target + ", " + s + ")";
    }

    private static Size sizeOf(int code) {
        for (Size size : Size.values()) {
            if (size.bits == (code & 0x18)) {
                return size;
            }
        }
        throw new AssertionError();
    }

    private static String signed(int offset) {
        return offset < 0 ? Integer.toString(offset) : "+" + offset;
    }

    private static String hex(int value) {
        return value < 0 ? Integer.toString(value) : "0x" + Integer.toHexString(value);
    }
}
