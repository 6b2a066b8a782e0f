package dev.eventloopguardian.testing;

import dev.eventloopguardian.bpf.Feature;
import dev.eventloopguardian.bpf.FeatureSupport;
import dev.eventloopguardian.bpf.Features;
import dev.eventloopguardian.sys.KernelVersion;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Decides, once per test class (and per method that says more), whether kernel tests can run here; see {@link KernelTest}. */
public final class KernelCondition implements BeforeAllCallback, BeforeEachCallback {
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_PERFMON = 38;
    private static final int CAP_BPF = 39;
    static final String REQUIRE = "EVENTLOOP_GUARDIAN_REQUIRE_KERNEL";

    /** Run or not: a skip where the machine cannot run the test, a failure where it should have been able to. */
    record Outcome(boolean fails, String reason) {
    }

    /** On a test method, the class-level callback never runs: check before the method instead. */
    @Override
    public void beforeEach(ExtensionContext context) {
        beforeAll(context);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        boolean required = "1".equals(System.getenv(REQUIRE));
        Optional<Outcome> outcome = Optional.ofNullable(missingPrivilege())
                .map(missing -> notPermitted("kernel tests need " + missing, required))
                .or(() -> Features.firstUnavailable(List.of(needs(context)))
                        .map(unavailable -> outcome(unavailable, KernelVersion.running(), required)));
        if (outcome.isEmpty()) {
            return;
        }
        String reason = context.getDisplayName() + ": " + outcome.get().reason();
        if (outcome.get().fails()) {
            throw new AssertionError(reason);
        }
        System.err.println("SKIPPED " + reason + " (set " + REQUIRE + "=1 to make this a failure)");
        throw new TestAbortedException(reason);
    }

    /**
     * For a test that needs a program this machine lacks ({@code reason} says which, and how to install it): what to
     * throw, a skip, printed, or a failure where {@link #REQUIRE} says that {@code tests} must run.
     */
    public static RuntimeException missing(String reason, String tests) {
        if ("1".equals(System.getenv(REQUIRE))) {
            throw new AssertionError(reason + ", and " + REQUIRE + "=1 says " + tests + " must run");
        }
        System.err.println("SKIPPED " + reason + " (set " + REQUIRE + "=1 to make this a failure)");
        return new TestAbortedException(reason);
    }

    /** The features of the closest {@link KernelTest}: the method's, else its class's. */
    private static Feature[] needs(ExtensionContext context) {
        return AnnotationSupport.findAnnotation(context.getElement(), KernelTest.class)
                .or(() -> context.getTestClass().flatMap(type -> AnnotationSupport.findAnnotation(type, KernelTest.class)))
                .map(KernelTest::needs)
                .orElseGet(() -> Feature.guard().toArray(Feature[]::new));
    }

    /**
     * The rule for a feature the kernel did not give. A kernel at least as recent as the
     * release that brought the feature should have it: its absence is a bug to see (a broken
     * probe, a misbuilt kernel), not a reason to skip. So is any absence when the run says it
     * must have kernel tests. No permission to probe is the privilege skip.
     */
    static Outcome outcome(FeatureSupport unavailable, Optional<KernelVersion> running, boolean required) {
        if (unavailable.verdict() == FeatureSupport.Verdict.NOT_PERMITTED) {
            return notPermitted(unavailable.toString(), required);
        }
        Optional<KernelVersion> shouldHave = running.filter(unavailable.feature()::expectedIn);
        if (shouldHave.isPresent()) {
            return new Outcome(true, unavailable + ", but Linux " + shouldHave.get() + " should have it");
        }
        String kernel = running.map(version -> " on Linux " + version).orElse("");
        if (required) {
            return new Outcome(true, unavailable + kernel + ", and " + REQUIRE + "=1 says kernel tests must run");
        }
        return new Outcome(false, unavailable + kernel);
    }

    private static Outcome notPermitted(String reason, boolean required) {
        return required
                ? new Outcome(true, reason + ", and " + REQUIRE + "=1 says kernel tests must run")
                : new Outcome(false, reason);
    }

    /** What this process lacks to load and attach programs, or null when it has everything. */
    static String missingPrivilege() {
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
