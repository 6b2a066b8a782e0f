package dev.eventloopguardian.bpf;

/** Program types we load ({@code enum bpf_prog_type}). */
public enum ProgramType {
    PERF_EVENT(7);

    final int id;

    ProgramType(int id) {
        this.id = id;
    }
}
