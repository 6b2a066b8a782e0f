package dev.eventloopguardian.sys;

import java.util.Locale;

/**
 * The CPU architectures we know the syscall ABI of. Numbers that differ between
 * architectures live here and nowhere else.
 */
public enum Arch {
    X86_64("x86_64", 321, 298, 436),
    AARCH64("aarch64", 280, 241, 436);

    private final String kernelName;
    private final int bpf;
    private final int perfEventOpen;
    private final int closeRange;

    Arch(String kernelName, int bpf, int perfEventOpen, int closeRange) {
        this.kernelName = kernelName;
        this.bpf = bpf;
        this.perfEventOpen = perfEventOpen;
        this.closeRange = closeRange;
    }

    /** The name {@code uname -m} prints. */
    public String kernelName() {
        return kernelName;
    }

    public int bpfSyscall() {
        return bpf;
    }

    public int perfEventOpenSyscall() {
        return perfEventOpen;
    }

    public int closeRangeSyscall() {
        return closeRange;
    }

    /** The architecture this JVM runs on, or an error naming it when we do not support it. */
    public static Arch current() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> throw new UnsupportedOperationException(
                    "unsupported CPU architecture '" + arch + "': eventloop-guardian supports x86_64 and aarch64");
        };
    }

    /** Parses {@code x86_64}, {@code amd64}, {@code aarch64} or {@code arm64}. */
    public static Arch parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> throw new IllegalArgumentException("unknown architecture '" + name + "' (x86_64 or aarch64)");
        };
    }
}
