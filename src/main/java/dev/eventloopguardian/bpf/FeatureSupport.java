package dev.eventloopguardian.bpf;

/**
 * What a probe of {@link #feature()} found. {@link #detail()} is the kernel's own word: the
 * verifier's line or the errno of the failed call.
 */
public record FeatureSupport(Feature feature, Verdict verdict, String detail) {
    public enum Verdict {
        AVAILABLE,
        /** The kernel refused it the way a kernel without it does: {@code EINVAL}, {@code E2BIG}, an unknown helper. */
        MISSING,
        /** We may not ask ({@code EPERM}): the caller lacks CAP_BPF and CAP_PERFMON, or a policy forbids bpf(2). */
        NOT_PERMITTED,
        /** The probe failed in a way that says nothing about the feature, e.g. {@code ENOMEM}. */
        UNKNOWN
    }

    public boolean available() {
        return verdict == Verdict.AVAILABLE;
    }

    /** One line for a user, e.g. {@code missing: bpf_task_pt_regs (needs Linux 5.15)}. */
    public String reason() {
        return switch (verdict) {
            case AVAILABLE -> "available: " + feature.description();
            case MISSING -> "missing: " + feature.description() + " (needs " + feature.requirement() + ")";
            case NOT_PERMITTED -> "no permission to probe for " + feature.description() + ": " + detail;
            case UNKNOWN -> "cannot tell whether the kernel has " + feature.description() + ": " + detail;
        };
    }

    @Override
    public String toString() {
        return detail.isEmpty() ? reason() : reason() + " [" + detail + "]";
    }
}
