package dev.eventloopguardian.bpf;

/** Conditional jumps; {@code symbol} is how the kernel's verifier log writes the comparison. */
public enum JumpOp {
    JEQ(0x10, "=="), JGT(0x20, ">"), JGE(0x30, ">="), JSET(0x40, "&"), JNE(0x50, "!="), JSGT(0x60, "s>"),
    JSGE(0x70, "s>="), JLT(0xa0, "<"), JLE(0xb0, "<="), JSLT(0xc0, "s<"), JSLE(0xd0, "s<=");

    final int bits;
    final String symbol;

    JumpOp(int bits, String symbol) {
        this.bits = bits;
        this.symbol = symbol;
    }

    static JumpOp of(int code) {
        for (JumpOp op : values()) {
            if (op.bits == (code & 0xf0)) {
                return op;
            }
        }
        throw new IllegalArgumentException("not a conditional jump: 0x" + Integer.toHexString(code));
    }
}
