package dev.eventloopguardian.jvm;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where the running HotSpot JVM keeps each Java thread's kernel tid and {@code OSThread} state,
 * read in-process from the layout tables HotSpot publishes for its Serviceability Agent
 * ({@link VmStructs}): no agent, no thread dump, no JVM flag.
 *
 * <pre>
 * ThreadsSMRSupport::_java_thread_list  (static ThreadsList*)
 *   -> ThreadsList { _length, _threads[] }  -> JavaThread*
 *        -> Thread::_osthread  -> OSThread { _state, _thread_id }
 * </pre>
 *
 * <p>The thread list is read the way the SA reads a live process, without HotSpot's hazard
 * pointers: a thread that exits during the walk may leave a freed list or {@code OSThread}
 * behind. The walk re-reads the list pointer and starts again when it changed, and drops
 * entries that do not look like a thread (a null {@code OSThread}, a tid that is not positive),
 * so a stale read gives a missing or extra entry, not a crash, as long as freed C-heap memory
 * stays mapped, as glibc's does for blocks of this size.
 */
public final class HotSpotLayout {
    /** Walks that found the list replaced before giving up: threads start and end, but not forever. */
    private static final int WALK_ATTEMPTS = 8;
    /** Far more threads than a JVM runs: a length past it means the list was read mid-free. */
    private static final int MAX_THREADS = 1 << 20;

    private final long javaThreadListAddress;
    private final long listLengthOffset;
    private final long listThreadsOffset;
    private final long osThreadOffset;
    private final long threadIdOffset;
    private final long stateOffset;
    private final long javaThreadSize;
    private final Map<OsThreadState, Integer> stateValues;

    /** A Java thread of this JVM: its {@code JavaThread} and the address of its {@code OSThread::_state}. */
    public record JavaThreadAt(long javaThread, long stateAddress) {
    }

    private HotSpotLayout(VmStructs structs) throws HotSpotLayoutException {
        VmStructs.Field threadList = structs.field("ThreadsSMRSupport", "_java_thread_list");
        if (!threadList.isStatic() || threadList.address() == 0) {
            throw new HotSpotLayoutException("ThreadsSMRSupport::_java_thread_list has no address in HotSpot's layout table");
        }
        javaThreadListAddress = threadList.address();
        listLengthOffset = structs.field("ThreadsList", "_length").offset();
        listThreadsOffset = structs.field("ThreadsList", "_threads").offset();
        osThreadOffset = structs.field("JavaThread", "_osthread").offset();
        threadIdOffset = structs.field("OSThread", "_thread_id").offset();
        stateOffset = structs.field("OSThread", "_state").offset();
        javaThreadSize = structs.type("JavaThread").size();
        // pid_t and enum ThreadState: both read as 4 bytes, here and by the eBPF program.
        requireSize(structs, "ThreadState");
        stateValues = new EnumMap<>(OsThreadState.class);
        for (OsThreadState state : OsThreadState.values()) {
            stateValues.put(state, structs.intConstant(state.name()));
        }
    }

    /** The layout of the JVM this code runs in. */
    public static HotSpotLayout ofThisJvm() throws HotSpotLayoutException {
        return new HotSpotLayout(VmStructs.ofThisJvm());
    }

    private static void requireSize(VmStructs structs, String type) throws HotSpotLayoutException {
        long size = structs.type(type).size();
        if (size != Integer.BYTES) {
            throw new HotSpotLayoutException("HotSpot's " + type + " is " + size + " bytes, not 4");
        }
    }

    /**
     * For each Java thread of this JVM (the VM's own threads, such as GC workers, are not Java
     * threads), its kernel tid and the address of its {@code OSThread::_state}, a 4-byte value
     * that {@link #stateValue} numbers. An address stays valid while its thread lives.
     */
    public Map<Integer, Long> osThreadStateAddresses() {
        Map<Integer, Long> addresses = new HashMap<>();
        javaThreads().forEach((tid, thread) -> addresses.put(tid, thread.stateAddress()));
        return addresses;
    }

    /** Each Java thread of this JVM by kernel tid, as {@link #osThreadStateAddresses} walks them. */
    public Map<Integer, JavaThreadAt> javaThreads() {
        for (int attempt = 0; attempt < WALK_ATTEMPTS; attempt++) {
            long list = NativeMemory.readLong(javaThreadListAddress);
            Map<Integer, JavaThreadAt> threads;
            try {
                threads = walk(list);
            } catch (IllegalStateException stale) {
                continue; // the list was freed under us and its memory reused or unmapped
            }
            if (NativeMemory.readLong(javaThreadListAddress) == list) {
                return threads;
            }
        }
        throw new IllegalStateException("the JVM's thread list changed during each of " + WALK_ATTEMPTS + " reads");
    }

    private Map<Integer, JavaThreadAt> walk(long list) {
        Map<Integer, JavaThreadAt> threads = new HashMap<>();
        if (list == 0) {
            return threads;
        }
        int length = NativeMemory.readInt(list + listLengthOffset);
        long array = NativeMemory.readLong(list + listThreadsOffset);
        if (length <= 0 || length > MAX_THREADS || array == 0) {
            return threads;
        }
        for (int i = 0; i < length; i++) {
            long javaThread = NativeMemory.readLong(array + (long) i * Long.BYTES);
            if (javaThread == 0) {
                continue;
            }
            long osThread = NativeMemory.readLong(javaThread + osThreadOffset);
            if (osThread == 0) {
                continue; // not started yet, or exiting
            }
            int tid = NativeMemory.readInt(osThread + threadIdOffset);
            if (tid > 0) {
                threads.put(tid, new JavaThreadAt(javaThread, osThread + stateOffset));
            }
        }
        return threads;
    }

    /** The {@code OSThread::_state} of the Java thread with kernel tid {@code tid}, if this JVM has one. */
    public Optional<OsThreadState> osThreadState(int tid) {
        Long address = osThreadStateAddresses().get(tid);
        return address == null ? Optional.empty() : Optional.of(stateAt(address));
    }

    /**
     * The state stored at {@code stateAddress}, one of {@link #osThreadStateAddresses()}'s
     * values; its thread must be alive.
     */
    public OsThreadState stateAt(long stateAddress) {
        int value = NativeMemory.readInt(stateAddress);
        for (Map.Entry<OsThreadState, Integer> state : stateValues.entrySet()) {
            if (state.getValue() == value) {
                return state.getKey();
            }
        }
        throw new IllegalStateException("OSThread::_state at 0x" + Long.toHexString(stateAddress) + " holds " + value
                + ", no ThreadState this JVM exports");
    }

    /** The number this JVM gives {@code state} in {@code OSThread::_state}, for a program that reads it. */
    public int stateValue(OsThreadState state) {
        return stateValues.get(state);
    }

    /**
     * The size of a {@code JavaThread}. It holds the thread's {@code Parker}, so the futex word a
     * {@code LockSupport.park} waits on lies inside it.
     */
    public long javaThreadSize() {
        return javaThreadSize;
    }
}
