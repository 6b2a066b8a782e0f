package dev.eventloopguardian.sys;

import java.util.Locale;

/** The CPU architectures we know the syscall ABI of. */
public enum Arch {
    X86_64("x86_64"),
    AARCH64("aarch64");

    private static final Arch CURRENT = detect();

    private final String kernelName;

    Arch(String kernelName) {
        this.kernelName = kernelName;
    }

    /** The name {@code uname -m} prints. */
    public String kernelName() {
        return kernelName;
    }

    /** The architecture this JVM runs on. */
    public static Arch current() {
        if (CURRENT == null) {
            throw new UnsupportedOperationException("unsupported CPU architecture '" + System.getProperty("os.arch")
                    + "': eventloop-guardian supports x86_64 and aarch64");
        }
        return CURRENT;
    }

    private static Arch detect() {
        try {
            return parse(System.getProperty("os.arch", ""));
        } catch (IllegalArgumentException e) {
            return null;
        }
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
