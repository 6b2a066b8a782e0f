package dev.eventloopguardian.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The one place that declares our downcalls into libc. Everything else calls the typed
 * methods here; errno is captured by the linker so that no JVM activity between the
 * call and the check can clobber it.
 */
public final class Linux {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // long syscall(long number, ...): six variadic longs cover every syscall's arguments.
    private static final MethodHandle SYSCALL = downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), CAPTURE_ERRNO);
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2), CAPTURE_ERRNO);
    private static final MethodHandle FCNTL = downcall("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.firstVariadicArg(2), CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle EXECV = downcall("execv", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle SETUID = downcall("setuid", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SETGID = downcall("setgid", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle INITGROUPS = downcall("initgroups",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle GETPWNAM = downcall("getpwnam", FunctionDescriptor.of(ADDRESS, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle GETPWUID = downcall("getpwuid", FunctionDescriptor.of(ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle GETXATTR = downcall("getxattr",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle POLL = downcall("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle PRCTL = downcall("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1),
            CAPTURE_ERRNO);
    private static final MethodHandle GETUID = downcall("getuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETEUID = downcall("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETGID = downcall("getgid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETTID = downcall("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPID = downcall("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    public static final int F_GETFD = 1;
    public static final int F_SETFD = 2;
    public static final int FD_CLOEXEC = 1;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final short POLLIN = 1;
    private static final int CLOSE_RANGE_CLOEXEC = 1 << 2;

    private Linux() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    private static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** The raw {@code syscall(2)} entry: returns the kernel's result or throws with errno. */
    public static long syscall(String what, long number, long a1, long a2, long a3, long a4, long a5) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long result = (long) SYSCALL.invokeExact(state, number, a1, a2, a3, a4, a5, 0L);
            if (result == -1) {
                throw new SyscallException(what, errno(state));
            }
            return result;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall syscall failed", t);
        }
    }

    public static int ioctl(String what, int fd, long request, long argument) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) IOCTL.invokeExact(state, fd, request, argument);
            if (result == -1) {
                throw new SyscallException(what, errno(state));
            }
            return result;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall ioctl failed", t);
        }
    }

    public static int fcntl(int fd, int command, long argument) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) FCNTL.invokeExact(state, fd, command, argument);
            if (result == -1) {
                throw new SyscallException("fcntl", errno(state));
            }
            return result;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall fcntl failed", t);
        }
    }

    /** Closes a descriptor; errors are ignored because there is nothing useful to do about them. */
    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw new AssertionError("downcall close failed", t);
        }
    }

    /** Clears {@code FD_CLOEXEC} so that {@code fd} survives exec. */
    public static void keepAcrossExec(int fd) {
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD, 0) & ~FD_CLOEXEC);
    }

    /**
     * Marks every descriptor from {@code first} up close-on-exec, except those in {@code keep},
     * so that nothing the JVM opened leaks into the command we exec.
     */
    public static void closeOnExecFrom(int first, int... keep) {
        int[] kept = keep.clone();
        java.util.Arrays.sort(kept);
        long low = first;
        long closeRange = Arch.current().closeRangeSyscall();
        for (int fd : kept) {
            if (fd < low) {
                continue;
            }
            if (fd > low) {
                syscall("close_range", closeRange, low, fd - 1, CLOSE_RANGE_CLOEXEC, 0, 0);
            }
            low = fd + 1L;
        }
        syscall("close_range", closeRange, low, 0xFFFF_FFFFL, CLOSE_RANGE_CLOEXEC, 0, 0);
    }

    /** {@code mmap(NULL, length, prot, MAP_SHARED, fd, offset)}, sized to {@code length}. */
    public static MemorySegment mmapShared(int fd, long length, int prot, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment address = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, length, prot, MAP_SHARED, fd,
                    offset);
            if (address.address() == -1L) {
                throw new SyscallException("mmap", errno(state));
            }
            return address.reinterpret(length);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall mmap failed", t);
        }
    }

    public static void munmap(MemorySegment mapping) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) MUNMAP.invokeExact(arena.allocate(CALL_STATE), mapping, mapping.byteSize());
        } catch (Throwable t) {
            throw new AssertionError("downcall munmap failed", t);
        }
    }

    /**
     * Replaces this process image with {@code path}, keeping the environment. Returns only by
     * throwing: exec failed.
     */
    public static SyscallException execv(String path, List<String> argv) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(ADDRESS, argv.size() + 1L);
            for (int i = 0; i < argv.size(); i++) {
                args.setAtIndex(ADDRESS, i, arena.allocateFrom(argv.get(i)));
            }
            args.setAtIndex(ADDRESS, argv.size(), MemorySegment.NULL);
            MemorySegment state = arena.allocate(CALL_STATE);
            int ignored = (int) EXECV.invokeExact(state, arena.allocateFrom(path), args);
            return new SyscallException("execv " + path, errno(state));
        } catch (Throwable t) {
            throw new AssertionError("downcall execv failed", t);
        }
    }

    /** A user account as {@code getpwnam(3)} sees it (so NSS sources such as LDAP work too). */
    public record Account(String name, int uid, int gid, String home) {
    }

    public static Optional<Account> accountByName(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment entry = (MemorySegment) GETPWNAM.invokeExact(arena.allocate(CALL_STATE), arena.allocateFrom(name));
            return account(entry);
        } catch (Throwable t) {
            throw new AssertionError("downcall getpwnam failed", t);
        }
    }

    public static Optional<Account> accountById(int uid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment entry = (MemorySegment) GETPWUID.invokeExact(arena.allocate(CALL_STATE), uid);
            return account(entry);
        } catch (Throwable t) {
            throw new AssertionError("downcall getpwuid failed", t);
        }
    }

    // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; char *pw_gecos; char *pw_dir; ... }
    private static Optional<Account> account(MemorySegment entry) {
        if (entry.equals(MemorySegment.NULL)) {
            return Optional.empty();
        }
        MemorySegment passwd = entry.reinterpret(48);
        String name = passwd.get(ADDRESS, 0).reinterpret(Long.MAX_VALUE).getString(0);
        int uid = passwd.get(JAVA_INT, 16);
        int gid = passwd.get(JAVA_INT, 20);
        String home = passwd.get(ADDRESS, 32).reinterpret(Long.MAX_VALUE).getString(0);
        return Optional.of(new Account(name, uid, gid, home));
    }

    /**
     * Becomes {@code account} for good: supplementary groups, then gid, then uid. glibc applies
     * each change to every thread of the process.
     */
    public static void becomeUser(Account account) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            if ((int) INITGROUPS.invokeExact(state, arena.allocateFrom(account.name()), account.gid()) != 0) {
                throw new SyscallException("initgroups " + account.name(), errno(state));
            }
            if ((int) SETGID.invokeExact(state, account.gid()) != 0) {
                throw new SyscallException("setgid " + account.gid(), errno(state));
            }
            if ((int) SETUID.invokeExact(state, account.uid()) != 0) {
                throw new SyscallException("setuid " + account.uid(), errno(state));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall set*id failed", t);
        }
    }

    /** The size of extended attribute {@code name} on {@code path}, or empty when it is absent. */
    public static Optional<Long> xattrSize(String path, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long size = (long) GETXATTR.invokeExact(state, arena.allocateFrom(path), arena.allocateFrom(name),
                    MemorySegment.NULL, 0L);
            return size < 0 ? Optional.empty() : Optional.of(size);
        } catch (Throwable t) {
            throw new AssertionError("downcall getxattr failed", t);
        }
    }

    /**
     * Waits until {@code fd} is readable or {@code timeoutMillis} pass (-1 waits forever).
     * Returns whether it is readable; an interrupted wait counts as not readable.
     */
    public static boolean pollReadable(int fd, int timeoutMillis) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollFd = arena.allocate(8);
            pollFd.set(JAVA_INT, 0, fd);
            pollFd.set(ValueLayout.JAVA_SHORT, 4, POLLIN);
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) POLL.invokeExact(state, pollFd, 1L, timeoutMillis);
            if (result == -1) {
                int errno = errno(state);
                if (errno == Errno.EINTR) {
                    return false;
                }
                throw new SyscallException("poll", errno);
            }
            return result > 0 && (pollFd.get(ValueLayout.JAVA_SHORT, 6) & POLLIN) != 0;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall poll failed", t);
        }
    }

    public static int prctl(String what, int option, long a2, long a3, long a4, long a5) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = (int) PRCTL.invokeExact(state, option, a2, a3, a4, a5);
            if (result == -1) {
                throw new SyscallException(what, errno(state));
            }
            return result;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall prctl failed", t);
        }
    }

    public static int uid() {
        return intCall(GETUID);
    }

    public static int effectiveUid() {
        return intCall(GETEUID);
    }

    public static int gid() {
        return intCall(GETGID);
    }

    /** The kernel thread id of the calling Java thread's native thread. */
    public static int tid() {
        return intCall(GETTID);
    }

    public static int pid() {
        return intCall(GETPID);
    }

    private static int intCall(MethodHandle handle) {
        try {
            return (int) handle.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("downcall failed", t);
        }
    }

    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
