package dev.eventloopguardian.bpf;

/** Width of a memory access. */
public enum Size {
    W(0x00, 4, "u32"), H(0x08, 2, "u16"), B(0x10, 1, "u8"), DW(0x18, 8, "u64");

    final int bits;
    private final int bytes;
    final String cType;

    Size(int bits, int bytes, String cType) {
        this.bits = bits;
        this.bytes = bytes;
        this.cType = cType;
    }

    public int bytes() {
        return bytes;
    }

    /** The access width for a field of {@code bytes} bytes, as BTF reports it. */
    public static Size ofBytes(int bytes) {
        return switch (bytes) {
            case 1 -> B;
            case 2 -> H;
            case 4 -> W;
            case 8 -> DW;
            default -> throw new IllegalArgumentException("no single load reads a " + bytes + "-byte field");
        };
    }
}
