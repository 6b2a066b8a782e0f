package dev.eventloopguardian.bpf;

/** Program types we load ({@code enum bpf_prog_type}). */
public enum ProgramType {
    PERF_EVENT(7),
    /**
     * A program on a kernel function or BTF-typed tracepoint, named at load by its BTF id
     * ({@link LoadedProgram#loadTracing}); for a raw tracepoint its context is the tracepoint's
     * arguments as an array of u64.
     */
    TRACING(26);

    final int id;

    ProgramType(int id) {
        this.id = id;
    }
}
