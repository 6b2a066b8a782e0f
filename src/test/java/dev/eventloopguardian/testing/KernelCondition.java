package dev.eventloopguardian.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Decides, once per test class, whether kernel tests can run here; see {@link KernelTest}. */
public final class KernelCondition implements BeforeAllCallback, BeforeEachCallback {
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_PERFMON = 38;
    private static final int CAP_BPF = 39;
    private static final String REQUIRE = "EVENTLOOP_GUARDIAN_REQUIRE_KERNEL";

    /** On a test method, the class-level callback never runs: check before the method instead. */
    @Override
    public void beforeEach(ExtensionContext context) {
        beforeAll(context);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        String missing = missing();
        if (missing == null) {
            return;
        }
        String reason = context.getDisplayName() + ": kernel tests need " + missing;
        if ("1".equals(System.getenv(REQUIRE))) {
            throw new AssertionError(reason + ", and " + REQUIRE + "=1 says they must run");
        }
        System.err.println("SKIPPED " + reason + " (set " + REQUIRE + "=1 to make this a failure)");
        throw new TestAbortedException(reason);
    }

    /** What this process lacks to load and attach programs, or null when it has everything. */
    static String missing() {
        if (!Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"))) {
            return "kernel BTF at /sys/kernel/btf/vmlinux";
        }
        long effective = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    effective = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                }
            }
        } catch (IOException e) {
            return "a readable /proc/self/status";
        }
        boolean bpfAndPerfmon = (effective >>> CAP_BPF & 1) != 0 && (effective >>> CAP_PERFMON & 1) != 0;
        boolean admin = (effective >>> CAP_SYS_ADMIN & 1) != 0;
        return bpfAndPerfmon || admin ? null : "CAP_BPF and CAP_PERFMON (run the tests as root)";
    }
}
