package dev.eventloopguardian.bpf;

/** Opcode bits of the eBPF instruction set (include/uapi/linux/bpf_common.h and bpf.h). */
final class Opcode {
    static final int CLASS_LD = 0x00;
    static final int CLASS_LDX = 0x01;
    static final int CLASS_ST = 0x02;
    static final int CLASS_STX = 0x03;
    static final int CLASS_ALU = 0x04;
    static final int CLASS_JMP = 0x05;
    static final int CLASS_JMP32 = 0x06;
    static final int CLASS_ALU64 = 0x07;

    static final int MODE_IMM = 0x00;
    static final int MODE_MEM = 0x60;
    static final int MODE_ATOMIC = 0xc0;

    /** In the immediate of an atomic instruction: also load the old value into {@code src}. */
    static final int ATOMIC_FETCH = 0x01;

    static final int SOURCE_K = 0x00;
    static final int SOURCE_X = 0x08;

    static final int JA = 0x00;
    static final int CALL = 0x80;
    static final int EXIT = 0x90;

    /** {@code src_reg} of a two-slot ld_imm64 whose immediate is a map file descriptor. */
    static final int PSEUDO_MAP_FD = 1;
    /**
     * {@code src_reg} of a two-slot ld_imm64 whose first immediate is a map file descriptor and
     * second an offset into the map's value: the verifier turns it into the value's address, so
     * reading an array's one element costs no lookup at run time ({@code BPF_PSEUDO_MAP_VALUE}).
     */
    static final int PSEUDO_MAP_VALUE = 2;

    private Opcode() {
    }

    static int instructionClass(int code) {
        return code & 0x07;
    }

    static int mode(int code) {
        return code & 0xe0;
    }
}
