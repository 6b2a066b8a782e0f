package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.KernelVersion;

import java.util.EnumSet;
import java.util.Set;

/**
 * What the product needs from the kernel, each with the upstream release that brought it, so
 * that a missing feature can be told apart from a kernel that should have it. {@link Features}
 * probes them.
 */
public enum Feature {
    /** {@code /sys/kernel/btf/vmlinux}: offsets in {@code task_struct}, and what {@code bpf_get_current_task_btf} returns. */
    KERNEL_BTF("kernel BTF (/sys/kernel/btf/vmlinux)", 5, 4, "CONFIG_DEBUG_INFO_BTF"),
    PERF_EVENT_PROGRAM("BPF_PROG_TYPE_PERF_EVENT programs", 4, 9, null),
    HASH_MAP("BPF_MAP_TYPE_HASH maps", 3, 19, null),
    ARRAY_MAP("BPF_MAP_TYPE_ARRAY maps", 3, 19, null),
    PERCPU_ARRAY_MAP("BPF_MAP_TYPE_PERCPU_ARRAY maps", 4, 6, null),
    RINGBUF("BPF_MAP_TYPE_RINGBUF maps", 5, 8, null),
    GET_STACK("bpf_get_stack", 4, 18, null),
    SEND_SIGNAL_THREAD("bpf_send_signal_thread", 5, 5, null),
    RINGBUF_HELPERS("bpf_ringbuf_output, bpf_ringbuf_reserve and bpf_ringbuf_submit", 5, 8, null),
    GET_CURRENT_TASK_BTF("bpf_get_current_task_btf", 5, 11, null),
    TASK_PT_REGS("bpf_task_pt_regs", 5, 15, null);

    private final String description;
    private final KernelVersion since;
    private final String buildOption;

    Feature(String description, int major, int minor, String buildOption) {
        this.description = description;
        this.since = KernelVersion.of(major, minor);
        this.buildOption = buildOption;
    }

    /** Everything the guard uses, in signal and in report mode. */
    public static Set<Feature> guard() {
        return EnumSet.allOf(Feature.class);
    }

    /** What it is, as a user would look it up, e.g. {@code bpf_task_pt_regs}. */
    public String description() {
        return description;
    }

    /** The upstream release that introduced it. */
    public KernelVersion since() {
        return since;
    }

    /** {@code Linux 5.15}, or {@code Linux 5.4 built with CONFIG_X} for a feature a kernel may be built without. */
    public String requirement() {
        return "Linux " + since + (buildOption == null ? "" : " built with " + buildOption);
    }

    /**
     * Whether a kernel of {@code version} must have it: it is at least the release that brought
     * the feature, and the feature is not one a build may leave out. Such a kernel lacking it
     * means a broken probe or a broken kernel, not an old one.
     */
    public boolean expectedIn(KernelVersion version) {
        return buildOption == null && version.atLeast(since);
    }

    /** Whether it is a helper function, probed by a program that calls it. */
    boolean isHelper() {
        return switch (this) {
            case KERNEL_BTF, PERF_EVENT_PROGRAM, HASH_MAP, ARRAY_MAP, PERCPU_ARRAY_MAP, RINGBUF -> false;
            case GET_STACK, SEND_SIGNAL_THREAD, RINGBUF_HELPERS, GET_CURRENT_TASK_BTF, TASK_PT_REGS -> true;
        };
    }

    /** What must be there before this one can be probed: a helper probe is a program of our type that calls it. */
    Set<Feature> prerequisites() {
        return switch (this) {
            case KERNEL_BTF, PERF_EVENT_PROGRAM, HASH_MAP, ARRAY_MAP, PERCPU_ARRAY_MAP, RINGBUF -> EnumSet.noneOf(Feature.class);
            case GET_STACK, SEND_SIGNAL_THREAD -> EnumSet.of(PERF_EVENT_PROGRAM);
            case RINGBUF_HELPERS -> EnumSet.of(PERF_EVENT_PROGRAM, RINGBUF);
            case GET_CURRENT_TASK_BTF -> EnumSet.of(PERF_EVENT_PROGRAM, KERNEL_BTF);
            case TASK_PT_REGS -> EnumSet.of(GET_CURRENT_TASK_BTF);
        };
    }
}
