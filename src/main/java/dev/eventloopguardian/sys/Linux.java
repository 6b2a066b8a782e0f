package dev.eventloopguardian.sys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The one place that calls into the kernel and libc. Almost everything goes through a single
 * {@code syscall()} downcall with errno captured by the linker, so that no JVM activity
 * between the call and the check can clobber it; the few libc functions we need (user
 * accounts through NSS, error texts) are bound lazily, off the launch path.
 */
public final class Linux {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Arch ARCH = Arch.current();

    // long syscall(long number, ...): six variadic longs cover every syscall's arguments.
    private static final FunctionDescriptor SEVEN_LONGS = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final Linker.Option[] SEVEN_LONGS_OPTIONS = {Linker.Option.firstVariadicArg(1),
            Linker.Option.captureCallState("errno")};
    private static final MethodHandle SYSCALL = downcall("syscall", SEVEN_LONGS, SEVEN_LONGS_OPTIONS);

    private static final int F_DUPFD = 0;
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final int CLOSE_RANGE_CLOEXEC = 1 << 2;
    private static final int SIG_SETMASK = 2;
    private static final long TCGETS = 0x5401;
    private static final int MAP_SHARED = 1;
    private static final int POLLIN = 1;
    private static final int EFD_NONBLOCK = 0x800; // O_NONBLOCK, the same on x86_64 and aarch64
    private static final int EFD_CLOEXEC = 0x8_0000; // O_CLOEXEC, likewise
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;

    private Linux() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    private static long syscall(Nr nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long result = (long) SYSCALL.invokeExact(state, (long) nr.on(ARCH), a1, a2, a3, a4, a5, a6);
            if (result == -1) {
                throw new SyscallException(nr.kernelName(), (int) ERRNO.get(state, 0L));
            }
            return result;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("syscall downcall failed", t);
        }
    }

    private static long syscall(Nr nr, long a1, long a2, long a3) {
        return syscall(nr, a1, a2, a3, 0, 0, 0);
    }

    private static long syscall(Nr nr) {
        return syscall(nr, 0, 0, 0, 0, 0, 0);
    }

    /** {@code PIDFD_THREAD} (O_EXCL): a pidfd for one thread, not its thread group (Linux 6.9+). */
    public static final int PIDFD_THREAD = 0x80;

    /** {@code pidfd_open(pid, flags)}: a descriptor for the task, close-on-exec. */
    public static int pidfdOpen(int pid, int flags) {
        return (int) syscall(Nr.PIDFD_OPEN, pid, flags, 0);
    }

    /** {@code bpf(cmd, attr, sizeof attr)}. */
    public static int bpf(int command, MemorySegment attr) {
        return (int) syscall(Nr.BPF, command, attr.address(), attr.byteSize());
    }

    /**
     * Copies {@code into.byteSize()} bytes of this process's memory from {@code address} into
     * {@code into}, through {@code process_vm_readv} on itself: an address that is not mapped is
     * an {@code EFAULT}, not a crash. Returns how many bytes it copied, fewer when the range runs
     * into unmapped memory.
     *
     * @throws SyscallException with EFAULT when not even the first byte is mapped
     */
    public static long readOwnMemory(long address, MemorySegment into) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment local = arena.allocate(16, 8); // struct iovec { void *iov_base; size_t iov_len; }
            local.set(JAVA_LONG, 0, into.address());
            local.set(JAVA_LONG, 8, into.byteSize());
            MemorySegment remote = arena.allocate(16, 8);
            remote.set(JAVA_LONG, 0, address);
            remote.set(JAVA_LONG, 8, into.byteSize());
            return syscall(Nr.PROCESS_VM_READV, pid(), local.address(), 1, remote.address(), 1, 0);
        }
    }

    /** {@code perf_event_open(attr, tid, cpu, group_fd, flags)}. */
    public static int perfEventOpen(MemorySegment attr, int tid, int cpu, int groupFd, long flags) {
        return (int) syscall(Nr.PERF_EVENT_OPEN, attr.address(), tid, cpu, groupFd, flags, 0);
    }

    public static int ioctl(int fd, long request, long argument) {
        return (int) syscall(Nr.IOCTL, fd, request, argument);
    }

    /** Closes a descriptor; errors are ignored because there is nothing useful to do about them. */
    public static void close(int fd) {
        try {
            syscall(Nr.CLOSE, fd, 0, 0);
        } catch (SyscallException ignored) {
            // EBADF or EINTR: the descriptor is gone either way.
        }
    }

    /**
     * A second descriptor for what {@code fd} refers to, close-on-exec: an object that keeps it
     * no longer depends on the lifetime of the original number, which its owner may close and
     * the process may reuse for something else.
     */
    /** A copy of {@code fd} numbered 3 or more that exec does not close: for COMMAND to inherit. */
    public static int duplicateInheritable(int fd) {
        return (int) syscall(Nr.FCNTL, fd, F_DUPFD, 3);
    }

    public static int duplicate(int fd) {
        return (int) syscall(Nr.FCNTL, fd, F_DUPFD_CLOEXEC, 0);
    }

    /** Clears {@code FD_CLOEXEC} so that {@code fd} survives exec. */
    public static void keepAcrossExec(int fd) {
        long flags = syscall(Nr.FCNTL, fd, F_GETFD, 0);
        syscall(Nr.FCNTL, fd, F_SETFD, flags & ~FD_CLOEXEC);
    }

    /**
     * Marks every descriptor from {@code first} up close-on-exec, except those in {@code keep},
     * so that nothing the JVM opened leaks into the command we exec.
     */
    public static void closeOnExecFrom(int first, int... keep) {
        int[] kept = keep.clone();
        Arrays.sort(kept);
        long low = first;
        for (int fd : kept) {
            if (fd > low) {
                syscall(Nr.CLOSE_RANGE, low, fd - 1, CLOSE_RANGE_CLOEXEC);
            }
            low = Math.max(low, fd + 1L);
        }
        syscall(Nr.CLOSE_RANGE, low, 0xFFFF_FFFFL, CLOSE_RANGE_CLOEXEC);
    }

    /**
     * Unblocks every signal on the calling thread: exec keeps the signal mask, and a JVM thread
     * may block signals that COMMAND must receive.
     */
    public static void resetSignalMask() {
        try (Arena arena = Arena.ofConfined()) {
            syscall(Nr.RT_SIGPROCMASK, SIG_SETMASK, arena.allocate(8).address(), 0, 8, 0, 0);
        }
    }

    /** {@code mmap(NULL, length, prot, MAP_SHARED, fd, offset)}, sized to {@code length}. */
    public static MemorySegment mmapShared(int fd, long length, int prot, long offset) {
        long address = syscall(Nr.MMAP, 0, length, prot, MAP_SHARED, fd, offset);
        return MemorySegment.ofAddress(address).reinterpret(length);
    }

    public static void munmap(MemorySegment mapping) {
        syscall(Nr.MUNMAP, mapping.address(), mapping.byteSize(), 0);
    }

    /**
     * The size of a memory page: 4 KiB on x86_64, 4, 16 or 64 KiB on aarch64 depending on the
     * kernel's build. mmap offsets and lengths, and ring buffer sizes, are counted in pages.
     */
    public static int pageSize() {
        return PageSize.BYTES;
    }

    /**
     * Replaces this process image with {@code path}. The environment is this process's own,
     * with {@code overrides} set on top (empty: passed through untouched). Returns only by
     * throwing: exec failed.
     */
    public static SyscallException execve(String path, List<String> argv, Map<String, String> overrides) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment environment = overrides.isEmpty() ? environ() : environment(arena, overrides);
            syscall(Nr.EXECVE, arena.allocateFrom(path).address(), cStrings(arena, argv).address(), environment.address());
            throw new AssertionError("execve returned without an error");
        } catch (SyscallException e) {
            return e;
        }
    }

    /**
     * A pipe whose descriptors survive exec: {@code [read end, write end]}. For a child that
     * needs a descriptor nobody ever writes to, so that a read on it only ever times out.
     */
    public static int[] inheritablePipe() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            syscall(Nr.PIPE2, fds.address(), 0, 0);
            return fds.toArray(JAVA_INT);
        }
    }

    /**
     * Starts {@code path} as a child of this process with our environment, every descriptor that
     * is not close-on-exec, and the calling thread's signal mask, and returns its pid. glibc's
     * {@code posix_spawn} forks with {@code CLONE_VM|CLONE_VFORK}, which is safe from a JVM,
     * where a plain fork is not; it is bound on first use, off the paths that do not spawn.
     */
    public static int spawn(String path, List<String> argv) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pid = arena.allocate(JAVA_INT);
            MemorySegment unused = arena.allocate(CALL_STATE);
            int error = (int) (long) Spawn.POSIX_SPAWN.invokeExact(unused, pid.address(), arena.allocateFrom(path).address(),
                    0L, 0L, cStrings(arena, argv).address(), environ().address(), 0L);
            if (error != 0) {
                throw new SyscallException("posix_spawn", error); // it returns the error number, errno is untouched
            }
            return pid.get(JAVA_INT, 0);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("posix_spawn downcall failed", t);
        }
    }

    /**
     * Binds {@link #spawn}'s libc function now, so that a dry run, which the launcher's AOT cache
     * is trained on, loads its class too. The binding itself reuses {@code syscall}'s link (well
     * under a millisecond); what is left to do at the real launch is the symbol lookup.
     */
    public static void prepareSpawn() {
        Objects.requireNonNull(Spawn.POSIX_SPAWN);
    }

    /** Waits for child {@code pid} to end, reaps it, and returns its wait status. */
    public static int waitForChild(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            while (true) {
                try {
                    syscall(Nr.WAIT4, pid, status.address(), 0, 0, 0, 0);
                    return status.get(JAVA_INT, 0);
                } catch (SyscallException e) {
                    if (!e.is(Errno.EINTR)) {
                        throw e;
                    }
                }
            }
        }
    }

    private static MemorySegment environ() {
        return LINKER.defaultLookup().find("environ")
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no environ"))
                .reinterpret(ADDRESS.byteSize()).get(ADDRESS, 0);
    }

    private static MemorySegment environment(Arena arena, Map<String, String> overrides) {
        Map<String, String> merged = new LinkedHashMap<>(System.getenv());
        merged.putAll(overrides);
        List<String> entries = new ArrayList<>();
        merged.forEach((name, value) -> entries.add(name + "=" + value));
        return cStrings(arena, entries);
    }

    /** A NULL-terminated {@code char *[]}, as exec takes for argv and envp. */
    private static MemorySegment cStrings(Arena arena, List<String> strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
        }
        array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return array;
    }

    /**
     * The highest uid (and gid) there can be. {@code uid_t} is an unsigned 32-bit number, and
     * {@code (uid_t) -1}, 4294967295, is no one's: the kernel's "leave it unchanged".
     */
    public static final long HIGHEST_ID = 0xFFFF_FFFEL;

    /**
     * A user account as {@code getpwnam(3)} sees it (so NSS sources such as LDAP work too). The
     * ids are {@code uid_t} and {@code gid_t}, unsigned: held in a long, so that one above 2^31
     * prints and passes on as the number it is.
     */
    public record Account(String name, long uid, long gid, String home) {
    }

    public static Optional<Account> accountByName(String name) {
        return Libc.account(Libc.GETPWNAM, name, 0);
    }

    /** The account with {@code uid}, which must lie in 0..{@link #HIGHEST_ID}. */
    public static Optional<Account> accountById(long uid) {
        if (uid < 0 || uid > HIGHEST_ID) {
            throw new IllegalArgumentException("no uid can be " + uid + ": uids go from 0 to " + HIGHEST_ID);
        }
        return Libc.account(Libc.GETPWUID, null, (int) uid);
    }

    /**
     * Becomes {@code account}: supplementary groups (through libc, which knows NSS), then gid,
     * then uid. The ids change for the calling thread only, the one that is about to exec.
     */
    public static void becomeUser(Account account) {
        Libc.initgroups(account);
        syscall(Nr.SETGID, account.gid(), 0, 0);
        syscall(Nr.SETUID, account.uid(), 0, 0);
    }

    /**
     * Takes on {@code account}'s uid, gid and groups on the calling thread only, for checks made
     * as that user (access(2) uses the thread's real ids). The kernel keeps credentials per
     * thread, and these raw calls, unlike libc's wrappers, leave the other threads as they are.
     * There is no way back: use a thread that ends after the checks.
     */
    public static void impersonateOnThisThread(Account account) {
        int[] groups = Libc.groupsOf(account);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(JAVA_INT, Math.max(1, groups.length));
            MemorySegment.copy(groups, 0, list, JAVA_INT, 0, groups.length);
            syscall(Nr.SETGROUPS, groups.length, list.address(), 0);
        }
        syscall(Nr.SETRESGID, account.gid(), account.gid(), account.gid());
        syscall(Nr.SETRESUID, account.uid(), account.uid(), account.uid());
    }

    /** The size of extended attribute {@code name} on {@code path}, or empty when it is absent. */
    public static Optional<Long> xattrSize(String path, String name) {
        try (Arena arena = Arena.ofConfined()) {
            return Optional.of(syscall(Nr.GETXATTR, arena.allocateFrom(path).address(), arena.allocateFrom(name).address(), 0,
                    0, 0, 0));
        } catch (SyscallException e) {
            return Optional.empty();
        }
    }

    /**
     * Waits until one of {@code fds} is readable or {@code timeoutMillis} pass. Returns whether
     * one is; an interrupted wait counts as not readable. A reader waits on its data and on an
     * {@link #eventFd} together, so that another thread can end the wait at once.
     */
    public static boolean pollReadable(int timeoutMillis, int... fds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollFds = arena.allocate(8L * fds.length, 4); // struct pollfd { int fd; short events, revents; }
            for (int i = 0; i < fds.length; i++) {
                pollFds.set(JAVA_INT, 8L * i, fds[i]);
                pollFds.set(JAVA_SHORT, 8L * i + 4, (short) POLLIN);
            }
            MemorySegment timeout = arena.allocate(16);
            timeout.set(JAVA_LONG, 0, timeoutMillis / 1000);
            timeout.set(JAVA_LONG, 8, (timeoutMillis % 1000) * 1_000_000L);
            long ready = syscall(Nr.PPOLL, pollFds.address(), fds.length, timeout.address(), 0, 0, 0);
            for (int i = 0; i < fds.length && ready > 0; i++) {
                if ((pollFds.get(JAVA_SHORT, 8L * i + 6) & POLLIN) != 0) {
                    return true;
                }
            }
            return false;
        } catch (SyscallException e) {
            if (e.is(Errno.EINTR)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * A new eventfd, close-on-exec and non-blocking: it reads as ready once {@link #signalEventFd}
     * was called on it, which wakes a thread waiting for it in {@link #pollReadable}.
     */
    public static int eventFd() {
        return (int) syscall(Nr.EVENTFD2, 0, EFD_CLOEXEC | EFD_NONBLOCK, 0);
    }

    /** Adds 1 to the counter of eventfd {@code fd}, which makes it readable. */
    public static void signalEventFd(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            syscall(Nr.WRITE, fd, arena.allocateFrom(JAVA_LONG, 1).address(), Long.BYTES);
        }
    }

    /** Whether {@code fd} is a terminal (the TCGETS ioctl succeeds on it). */
    public static boolean isTerminal(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            syscall(Nr.IOCTL, fd, TCGETS, arena.allocate(64).address());
            return true;
        } catch (SyscallException e) {
            return false;
        }
    }

    /** Sends {@code signal} to process {@code pid}. */
    public static void kill(int pid, int signal) {
        syscall(Nr.KILL, pid, signal, 0);
    }

    public static int prctl(int option, long a2, long a3, long a4, long a5) {
        return (int) syscall(Nr.PRCTL, option, a2, a3, a4, a5, 0);
    }

    // The kernel returns ids zero-extended (a uid_t in a long), so they stay unsigned.

    public static long uid() {
        return syscall(Nr.GETUID);
    }

    public static long effectiveUid() {
        return syscall(Nr.GETEUID);
    }

    public static long gid() {
        return syscall(Nr.GETGID);
    }

    /** The kernel thread id of the calling Java thread's native thread. */
    public static int tid() {
        return (int) syscall(Nr.GETTID);
    }

    public static int pid() {
        return (int) syscall(Nr.GETPID);
    }

    static String strerror(int errno) {
        return Libc.strerror(errno);
    }

    /** Read once, on first use, from the auxiliary vector the kernel handed this process. */
    private static final class PageSize {
        private static final long AT_PAGESZ = 6;
        static final int BYTES = read();

        private PageSize() {
        }

        // /proc/self/auxv: pairs of native-endian u64 (type, value), ending with AT_NULL. No
        // downcall needed, and unlike a constant it is right on 16K and 64K aarch64 kernels.
        private static int read() {
            try {
                ByteBuffer auxv = ByteBuffer.wrap(Files.readAllBytes(Path.of("/proc/self/auxv")))
                        .order(ByteOrder.nativeOrder());
                while (auxv.remaining() >= 16) {
                    long type = auxv.getLong();
                    long value = auxv.getLong();
                    if (type == AT_PAGESZ) {
                        return Math.toIntExact(value);
                    }
                }
                throw new IllegalStateException("/proc/self/auxv has no AT_PAGESZ entry");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the page size from /proc/self/auxv", e);
            }
        }
    }

    /** posix_spawn(3), bound on first use: only the guarded exec spawns. */
    private static final class Spawn {
        // int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
        //                 const posix_spawnattr_t *attributes, char *const argv[], char *const envp[])
        //
        // Bound with syscall's descriptor and options, which the JDK has linked already: it keeps
        // one link per descriptor, and a second one would cost a guard tens of milliseconds of its
        // launch, interpreted (lambda forms and a stub class). The call is the same in the
        // registers on x86_64 and aarch64: the six pointers go as the integers they are, the
        // seventh argument is one posix_spawn does not read, an int comes back in the low half of
        // the result, and variadic integers travel as fixed ones do on both.
        static final MethodHandle POSIX_SPAWN = downcall("posix_spawn", SEVEN_LONGS, SEVEN_LONGS_OPTIONS);

        private Spawn() {
        }
    }

    /** libc functions with no syscall equivalent, bound on first use. */
    private static final class Libc {
        static final MethodHandle GETPWNAM = downcall("getpwnam", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle GETPWUID = downcall("getpwuid", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final MethodHandle INITGROUPS = downcall("initgroups", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
                Linker.Option.captureCallState("errno"));
        static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final MethodHandle GETGROUPLIST = downcall("getgrouplist",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));

        private Libc() {
        }

        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; char *pw_gecos; char *pw_dir; ... }
        static Optional<Account> account(MethodHandle lookup, String name, int uid) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment entry = name != null
                        ? (MemorySegment) lookup.invokeExact(arena.allocateFrom(name))
                        : (MemorySegment) lookup.invokeExact(uid);
                if (entry.equals(MemorySegment.NULL)) {
                    return Optional.empty();
                }
                MemorySegment passwd = entry.reinterpret(48);
                return Optional.of(new Account(string(passwd.get(ADDRESS, 0)), Integer.toUnsignedLong(passwd.get(JAVA_INT, 16)),
                        Integer.toUnsignedLong(passwd.get(JAVA_INT, 20)), string(passwd.get(ADDRESS, 32))));
            } catch (Throwable t) {
                throw new AssertionError("getpw* downcall failed", t);
            }
        }

        static void initgroups(Account account) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(CALL_STATE);
                if ((int) INITGROUPS.invokeExact(state, arena.allocateFrom(account.name()), (int) account.gid()) != 0) {
                    throw new SyscallException("initgroups", (int) ERRNO.get(state, 0L));
                }
            } catch (SyscallException e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError("initgroups downcall failed", t);
            }
        }

        /** The groups initgroups(3) would give {@code account}: its own gid and those it is a member of. */
        static int[] groupsOf(Account account) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment name = arena.allocateFrom(account.name());
                MemorySegment count = arena.allocateFrom(JAVA_INT, 64);
                while (true) {
                    MemorySegment groups = arena.allocate(JAVA_INT, count.get(JAVA_INT, 0));
                    if ((int) GETGROUPLIST.invokeExact(name, (int) account.gid(), groups, count) >= 0) {
                        return groups.asSlice(0, JAVA_INT.byteSize() * count.get(JAVA_INT, 0)).toArray(JAVA_INT);
                    }
                    // -1: too small a list; count now holds the size needed.
                }
            } catch (Throwable t) {
                throw new AssertionError("getgrouplist downcall failed", t);
            }
        }

        static String strerror(int errno) {
            try {
                return string((MemorySegment) STRERROR.invokeExact(errno));
            } catch (Throwable t) {
                return "errno " + errno;
            }
        }

        private static String string(MemorySegment pointer) {
            return pointer.equals(MemorySegment.NULL) ? "" : pointer.reinterpret(4096).getString(0);
        }
    }
}
