package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.BpfException;
import dev.eventloopguardian.bpf.BpfMap;
import dev.eventloopguardian.bpf.MapType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The JVM threads whose futex sleeps a guard can classify: a hash from a thread's tid to its
 * {@link JavaThreadWaits}, which the program reads at a futex switch-out to tell a Java-level wait
 * (sleep, park, {@code wait}, a contended monitor) from the VM's own (safepoints, GC). A thread
 * not in it has its futex sleeps allowed, as any thread's are without this.
 *
 * <p>Public for the one user outside a {@link Guard}: a JVM that a guard was handed to across
 * exec ({@code eventloop-guardian COMMAND}), which registers its own threads through the map's
 * descriptor, inherited ({@link #inherited}).
 */
public final class JavaThreads implements AutoCloseable {
    /** Threads a guard can classify at once; one JVM rarely has more. */
    static final int CAPACITY = 16384;
    static final int KEY_BYTES = 4;
    static final int VALUE_BYTES = JavaThreadWaits.BYTES;

    private final BpfMap map;

    private JavaThreads(BpfMap map) {
        this.map = map;
    }

    private static final String NAME = "evloop_jthreads";

    static JavaThreads create() throws BpfException {
        return new JavaThreads(BpfMap.create(MapType.HASH, NAME, KEY_BYTES, VALUE_BYTES, CAPACITY));
    }

    /** The map behind {@code fd}, inherited from the command line that loaded the guard; it is ours to close. */
    public static JavaThreads inherited(int fd) {
        return new JavaThreads(BpfMap.adopt(fd, MapType.HASH, NAME, KEY_BYTES, VALUE_BYTES, CAPACITY));
    }

    int fd() {
        return map.fd();
    }

    /** From now on, futex sleeps of {@code tid} are classified by where its {@code waits} show. */
    public void watch(int tid, JavaThreadWaits waits) throws BpfException {
        map.update(key(tid), ByteBuffer.allocate(VALUE_BYTES).order(ByteOrder.nativeOrder())
                .putLong(JavaThreadWaits.STATE_ADDRESS, waits.stateAddress())
                .putLong(JavaThreadWaits.PARK_FROM, waits.parkFrom()).putLong(JavaThreadWaits.PARK_TO, waits.parkTo())
                .putLong(JavaThreadWaits.SLEEP_FROM, waits.sleepFrom()).putLong(JavaThreadWaits.SLEEP_TO, waits.sleepTo())
                .putLong(JavaThreadWaits.MONITOR_FROM, waits.monitorFrom()).putLong(JavaThreadWaits.MONITOR_TO, waits.monitorTo())
                .array());
    }

    /** {@code tid} has ended, or is no longer a thread to classify. */
    public void forget(int tid) throws BpfException {
        map.delete(key(tid));
    }

    private static byte[] key(int tid) {
        return ByteBuffer.allocate(KEY_BYTES).order(ByteOrder.nativeOrder()).putInt(tid).array();
    }

    @Override
    public void close() {
        map.close();
    }
}
