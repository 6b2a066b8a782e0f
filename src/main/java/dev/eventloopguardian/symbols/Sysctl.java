package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The two settings that decide who sees kernel addresses, read to tell users what to change. */
final class Sysctl {
    private Sysctl() {
    }

    /**
     * The kernel shows kallsyms addresses to a reader with CAP_SYSLOG when kptr_restrict is 0 or 1,
     * and to everyone when kptr_restrict is 0 and perf_event_paranoid is at most 1 (see
     * {@code kallsyms_show_value} in kernel/ksyms_common.c). The check is made at open, with the
     * opener's credentials.
     */
    static String explainHiddenKernelAddresses() {
        String restrict = read("kptr_restrict");
        String paranoid = read("perf_event_paranoid");
        String now = " (now kernel.kptr_restrict=" + restrict + ", kernel.perf_event_paranoid=" + paranoid + ")";
        if ("2".equals(restrict)) {
            return "kernel.kptr_restrict=2 hides them even from root: set it to 1 and run as root" + now;
        }
        return "they need CAP_SYSLOG (run as root), or kernel.kptr_restrict=0 with kernel.perf_event_paranoid<=1"
                + now;
    }

    private static String read(String name) {
        try {
            return Files.readString(Path.of("/proc/sys/kernel", name)).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
