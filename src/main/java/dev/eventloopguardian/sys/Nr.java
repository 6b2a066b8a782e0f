package dev.eventloopguardian.sys;

/**
 * The system calls this package makes itself, with their numbers on each architecture
 * (x86_64: arch/x86/entry/syscalls/syscall_64.tbl; aarch64: the generic table). Calling the
 * kernel directly through one {@code syscall()} handle keeps launch fast: every extra FFM
 * downcall handle costs milliseconds to create in a cold JVM.
 */
enum Nr {
    READ(0, 63),
    WRITE(1, 64),
    CLOSE(3, 57),
    MMAP(9, 222),
    MUNMAP(11, 215),
    RT_SIGPROCMASK(14, 135),
    IOCTL(16, 29),
    GETPID(39, 172),
    EXECVE(59, 221),
    WAIT4(61, 260),
    KILL(62, 129),
    FCNTL(72, 25),
    GETUID(102, 174),
    GETGID(104, 176),
    SETUID(105, 146),
    SETGID(106, 144),
    GETEUID(107, 175),
    SETGROUPS(116, 159),
    SETRESUID(117, 147),
    SETRESGID(119, 149),
    PRCTL(157, 167),
    GETTID(186, 178),
    GETXATTR(191, 8),
    EVENTFD2(290, 19),
    PPOLL(271, 73),
    PIPE2(293, 59),
    PROCESS_VM_READV(310, 270),
    PERF_EVENT_OPEN(298, 241),
    BPF(321, 280),
    PIDFD_OPEN(434, 434),
    CLOSE_RANGE(436, 436);

    private final int x86;
    private final int arm64;

    Nr(int x86, int arm64) {
        this.x86 = x86;
        this.arm64 = arm64;
    }

    int on(Arch arch) {
        return arch == Arch.X86_64 ? x86 : arm64;
    }

    /** The syscall name as the kernel's tables spell it. */
    String kernelName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
