package dev.eventloopguardian.perf;

import dev.eventloopguardian.sys.Errno;
import dev.eventloopguardian.sys.SyscallException;

/** A perf_event_open or perf ioctl failed. */
public final class PerfException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int errno;

    PerfException(String message, SyscallException cause) {
        super(message + ": " + cause.getMessage(), cause);
        this.errno = cause.errno();
    }

    public int errno() {
        return errno;
    }

    /** Denied by perf_event_paranoid or missing CAP_PERFMON. */
    public boolean isPermissionDenied() {
        return errno == Errno.EACCES || errno == Errno.EPERM;
    }

    /** The thread is gone. */
    public boolean isNoSuchThread() {
        return errno == Errno.ESRCH;
    }
}
