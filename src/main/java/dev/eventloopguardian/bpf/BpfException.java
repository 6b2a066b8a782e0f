package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.Errno;
import dev.eventloopguardian.sys.SyscallException;

/**
 * A {@code bpf(2)} command failed. When the verifier rejected a program, {@link #verifierLog()}
 * holds its explanation.
 */
public final class BpfException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final String verifierLog;

    BpfException(String message, SyscallException cause, String verifierLog) {
        super(message + ": " + cause.getMessage(), cause);
        this.errno = cause.errno();
        this.verifierLog = verifierLog == null ? "" : verifierLog;
    }

    /** What the kernel said, e.g. {@code bpf(BPF_PROG_LOAD): EPERM (Operation not permitted)}. */
    public String kernelError() {
        return getCause().getMessage();
    }

    public int errno() {
        return errno;
    }

    /** The kernel lacks the privilege for the caller: CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) are needed. */
    public boolean isPermissionDenied() {
        return errno == Errno.EPERM || (errno == Errno.EACCES && verifierLog.isEmpty());
    }

    public boolean isVerifierRejection() {
        return !verifierLog.isEmpty();
    }

    public String verifierLog() {
        return verifierLog;
    }
}
