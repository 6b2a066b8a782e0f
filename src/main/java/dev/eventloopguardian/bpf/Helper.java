package dev.eventloopguardian.bpf;

/**
 * The kernel helper functions our programs call, with their stable ids from
 * {@code include/uapi/linux/bpf.h}.
 */
public enum Helper {
    MAP_LOOKUP_ELEM(1),
    MAP_UPDATE_ELEM(2),
    MAP_DELETE_ELEM(3),
    KTIME_GET_NS(5),
    GET_CURRENT_PID_TGID(14),
    GET_CURRENT_COMM(16),
    GET_CURRENT_TASK(35),
    GET_STACK(67),
    PROBE_READ_USER(112),
    PROBE_READ_KERNEL(113),
    SEND_SIGNAL_THREAD(117),
    RINGBUF_OUTPUT(130),
    RINGBUF_RESERVE(131),
    RINGBUF_SUBMIT(132),
    RINGBUF_DISCARD(133),
    TASK_STORAGE_GET(156),
    TASK_STORAGE_DELETE(157),
    GET_CURRENT_TASK_BTF(158),
    TASK_PT_REGS(175);

    private final int id;

    Helper(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    /** The C name, as verifier logs and {@code bpftool} print it. */
    public String cName() {
        return "bpf_" + name().toLowerCase(java.util.Locale.ROOT);
    }

    static String describe(int id) {
        for (Helper helper : values()) {
            if (helper.id == id) {
                return helper.cName() + "#" + id;
            }
        }
        return "helper#" + id;
    }
}
