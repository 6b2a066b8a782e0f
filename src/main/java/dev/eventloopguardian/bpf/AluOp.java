package dev.eventloopguardian.bpf;

/** Arithmetic operations; {@code symbol} is how the kernel's verifier log writes them. */
public enum AluOp {
    ADD(0x00, "+="), SUB(0x10, "-="), MUL(0x20, "*="), DIV(0x30, "/="), OR(0x40, "|="), AND(0x50, "&="),
    LSH(0x60, "<<="), RSH(0x70, ">>="), NEG(0x80, "= -"), MOD(0x90, "%="), XOR(0xa0, "^="), MOV(0xb0, "="),
    ARSH(0xc0, "s>>=");

    final int bits;
    final String symbol;

    AluOp(int bits, String symbol) {
        this.bits = bits;
        this.symbol = symbol;
    }

    static AluOp of(int code) {
        for (AluOp op : values()) {
            if (op.bits == (code & 0xf0)) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown ALU op 0x" + Integer.toHexString(code));
    }
}
