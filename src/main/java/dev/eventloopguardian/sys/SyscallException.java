package dev.eventloopguardian.sys;

/** A failed system call or libc function, with the errno it set. */
public final class SyscallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public SyscallException(String call, int errno) {
        super(null, null, false, false); // expected failures (ENODATA, EINTR) must stay cheap: no stack trace
        this.call = call;
        this.errno = errno;
    }

    /** {@code bpf(BPF_PROG_LOAD): EPERM (Operation not permitted)}; the text is looked up only when asked for. */
    @Override
    public String getMessage() {
        return call + ": " + Errno.name(errno) + " (" + Linux.strerror(errno) + ")";
    }

    /** What failed, e.g. {@code bpf(BPF_PROG_LOAD)}. */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    public boolean is(int expected) {
        return errno == expected;
    }
}
