package dev.eventloopguardian.bpf;

import dev.eventloopguardian.bpf.FeatureSupport.Verdict;
import dev.eventloopguardian.sys.Errno;
import dev.eventloopguardian.sys.Linux;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks the running kernel whether it has a {@link Feature}, the way cilium/ebpf's
 * {@code features.HaveProgramHelper} and {@code HaveMapType} do: load a minimal program of
 * our type that calls the helper, or create a tiny map of the type, and see whether the kernel
 * accepts it. Probes need the privileges of the real thing (CAP_BPF and CAP_PERFMON).
 *
 * <p>Answers that describe the kernel (available, missing) are kept for the life of the
 * process, one per feature; answers that describe the caller or the moment (no permission, an
 * unexpected error) are not, so that a later call can do better.
 */
public final class Features {
    // The kernel's own BTF. The btf package reads it; we only need to know it is there.
    private static final Path VMLINUX_BTF = Path.of("/sys/kernel/btf/vmlinux");
    /** At most one entry per feature. */
    private static final Map<Feature, FeatureSupport> KNOWN = new ConcurrentHashMap<>();

    private Features() {
    }

    /** Whether the running kernel has {@code feature}; probed on first use. */
    public static FeatureSupport check(Feature feature) {
        FeatureSupport known = KNOWN.get(feature);
        if (known != null) {
            return known;
        }
        FeatureSupport found = probeAfterPrerequisites(feature);
        if (found.verdict() == Verdict.AVAILABLE || found.verdict() == Verdict.MISSING) {
            KNOWN.putIfAbsent(feature, found);
        }
        return found;
    }

    /** The first of {@code features}, in {@link Feature}'s order, that is not available, if any. */
    public static Optional<FeatureSupport> firstUnavailable(Collection<Feature> features) {
        for (Feature feature : Feature.values()) {
            if (features.contains(feature)) {
                FeatureSupport support = check(feature);
                if (!support.available()) {
                    return Optional.of(support);
                }
            }
        }
        return Optional.empty();
    }

    // A probe that cannot be built without a prerequisite answers with the prerequisite's
    // result: "missing: kernel BTF" says more than a verifier message about a missing type.
    private static FeatureSupport probeAfterPrerequisites(Feature feature) {
        for (Feature prerequisite : feature.prerequisites()) {
            FeatureSupport support = check(prerequisite);
            if (!support.available()) {
                return support;
            }
        }
        return probe(feature);
    }

    private static FeatureSupport probe(Feature feature) {
        try {
            switch (feature) {
                case KERNEL_BTF -> {
                    return kernelBtf();
                }
                case HASH_MAP -> createMap(MapType.HASH, Integer.BYTES, Integer.BYTES, 1).close();
                case ARRAY_MAP -> createMap(MapType.ARRAY, Integer.BYTES, Integer.BYTES, 1).close();
                case PERCPU_ARRAY_MAP -> createMap(MapType.PERCPU_ARRAY, Integer.BYTES, Integer.BYTES, 1).close();
                case RINGBUF -> createMap(MapType.RINGBUF, 0, 0, Linux.pageSize()).close();
                case PERF_EVENT_PROGRAM -> load(new Assembler().mov(Reg.R0, 0).exit().assemble());
                case GET_STACK -> load(new Assembler()
                        .mov(Reg.R2, Reg.R10).alu(AluOp.ADD, Reg.R2, -64) // a 64-byte buffer on the stack
                        .mov(Reg.R3, 64).mov(Reg.R4, 0) // size, flags (the kernel stack); R1 is still the context
                        .call(Helper.GET_STACK).mov(Reg.R0, 0).exit().assemble());
                case SEND_SIGNAL_THREAD -> load(new Assembler()
                        .mov(Reg.R1, 10).call(Helper.SEND_SIGNAL_THREAD).mov(Reg.R0, 0).exit().assemble());
                case GET_CURRENT_TASK_BTF -> load(new Assembler()
                        .call(Helper.GET_CURRENT_TASK_BTF).mov(Reg.R0, 0).exit().assemble());
                case TASK_PT_REGS -> load(new Assembler()
                        .call(Helper.GET_CURRENT_TASK_BTF).mov(Reg.R1, Reg.R0)
                        .call(Helper.TASK_PT_REGS).mov(Reg.R0, 0).exit().assemble());
                case RINGBUF_HELPERS -> ringbufHelpers();
            }
            return new FeatureSupport(feature, Verdict.AVAILABLE, "");
        } catch (BpfException e) {
            return new FeatureSupport(feature, readFailure(feature.isHelper(), e.errno(), e.verifierLog()), detail(e));
        }
    }

    private static FeatureSupport kernelBtf() {
        if (!Files.exists(VMLINUX_BTF)) {
            return new FeatureSupport(Feature.KERNEL_BTF, Verdict.MISSING, VMLINUX_BTF + " does not exist");
        }
        return Files.isReadable(VMLINUX_BTF)
                ? new FeatureSupport(Feature.KERNEL_BTF, Verdict.AVAILABLE, "")
                : new FeatureSupport(Feature.KERNEL_BTF, Verdict.NOT_PERMITTED, VMLINUX_BTF + " is not readable");
    }

    // Reserve 8 bytes and submit them: the verifier insists that every reservation is given back.
    private static void ringbufHelpers() throws BpfException {
        try (BpfMap ring = createMap(MapType.RINGBUF, 0, 0, Linux.pageSize())) {
            load(new Assembler()
                    .store(Size.DW, Reg.R10, -8, 0)
                    .loadMapFd(Reg.R1, ring.fd()).mov(Reg.R2, Reg.R10).alu(AluOp.ADD, Reg.R2, -8).mov(Reg.R3, 8).mov(Reg.R4, 0)
                    .call(Helper.RINGBUF_OUTPUT).comment("8 bytes from the stack")
                    .loadMapFd(Reg.R1, ring.fd()).mov(Reg.R2, 8).mov(Reg.R3, 0)
                    .call(Helper.RINGBUF_RESERVE)
                    .jump(JumpOp.JEQ, Reg.R0, 0, "out")
                    .mov(Reg.R1, Reg.R0).mov(Reg.R2, 0)
                    .call(Helper.RINGBUF_SUBMIT)
                    .label("out")
                    .mov(Reg.R0, 0).exit().assemble());
        }
    }

    // No names: kernels before 4.15 refuse one (E2BIG), and a probe should not depend on more than it tests.
    private static BpfMap createMap(MapType type, int keySize, int valueSize, int maxEntries) throws BpfException {
        return BpfMap.create(type, "", keySize, valueSize, maxEntries);
    }

    private static void load(Program program) throws BpfException {
        LoadedProgram.load(ProgramType.PERF_EVENT, "", program).close();
    }

    /**
     * How to read a failed probe. {@code EPERM} is the caller's lack of privilege. A kernel
     * without a program or map type refuses it with {@code EINVAL}, and one older than a field
     * of {@code union bpf_attr} we set with {@code E2BIG}. A helper probe's {@code EINVAL} means
     * a missing helper only when the verifier says so (kernel/bpf/verifier.c,
     * check_helper_call: "invalid func" past the last id this kernel knows, "unknown func" or
     * "program of this type cannot use helper" for one it has no prototype for); any other
     * rejection is a fault of the probe, which must not pass for an old kernel.
     */
    static Verdict readFailure(boolean helperProbe, int errno, String verifierLog) {
        if (errno == Errno.EPERM || (errno == Errno.EACCES && verifierLog.isEmpty())) {
            return Verdict.NOT_PERMITTED;
        }
        if (errno == Errno.E2BIG) {
            return Verdict.MISSING;
        }
        if (errno == Errno.EINVAL) {
            return !helperProbe || missingHelperLine(verifierLog).isPresent() ? Verdict.MISSING : Verdict.UNKNOWN;
        }
        return Verdict.UNKNOWN;
    }

    private static Optional<String> missingHelperLine(String verifierLog) {
        return verifierLog.lines()
                .filter(line -> line.startsWith("invalid func ") || line.startsWith("unknown func ")
                        || line.startsWith("program of this type cannot use helper "))
                .findFirst();
    }

    /** The verifier's line that names the missing helper, else its last line, else the errno. */
    private static String detail(BpfException e) {
        return missingHelperLine(e.verifierLog())
                .or(() -> e.verifierLog().lines().reduce((first, second) -> second))
                .map(line -> e.kernelError() + ": " + line.strip())
                .orElse(e.kernelError());
    }
}
