package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.Errno;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Programs and maps by the ids the kernel gives them, the ones {@code bpftool} lists and
 * {@code /proc/PID/fdinfo} shows as {@code prog_id:} and {@code map_id:}. An id outlives every
 * descriptor of another process, so asking for it tells whether the kernel still holds the
 * object: freed only once no descriptor, perf event or program refers to it any more.
 */
public final class ObjectIds {
    private ObjectIds() {
    }

    /** Whether the kernel still holds the program with this id. Needs CAP_SYS_ADMIN. */
    public static boolean programExists(int id) throws BpfException {
        return exists("BPF_PROG_GET_FD_BY_ID", BpfSyscall.PROG_GET_FD_BY_ID, id);
    }

    /** Whether the kernel still holds the map with this id. Needs CAP_SYS_ADMIN. */
    public static boolean mapExists(int id) throws BpfException {
        return exists("BPF_MAP_GET_FD_BY_ID", BpfSyscall.MAP_GET_FD_BY_ID, id);
    }

    // union bpf_attr for *_GET_FD_BY_ID: the id (prog_id, map_id) @0, next_id @4, open_flags @8 (0: read-write).
    private static boolean exists(String command, int number, int id) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(BpfSyscall.ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, id);
            Linux.close(BpfSyscall.call(command, number, attr)); // opened only to learn that it could be
            return true;
        } catch (SyscallException e) {
            if (e.is(Errno.ENOENT)) {
                return false;
            }
            throw new BpfException("cannot look up id " + id, e, null);
        }
    }
}
