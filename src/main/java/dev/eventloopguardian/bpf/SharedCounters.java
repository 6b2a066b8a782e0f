package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A few u64 counters that programs and this process both add to atomically: an array map of one
 * element, {@code count} counters wide, created {@link BpfMap#MMAPABLE} and mapped here. A
 * program reaches counter {@code i} with {@link Assembler#loadMapValue}{@code (r, fd(), 8 * i)}
 * (no lookup call) and adds with a {@code lock} add; this process adds with a
 * locked read-modify-write on the same memory. A map update from user space could not do that:
 * it copies the whole value over whatever a program added meanwhile.
 */
public final class SharedCounters implements AutoCloseable {
    private static final VarHandle COUNTER = JAVA_LONG.varHandle();

    private final BpfMap map;
    private final MemorySegment mapping;
    private final Arena scope;
    private final MemorySegment counters;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SharedCounters(BpfMap map, MemorySegment mapping, int count) {
        this.map = map;
        this.mapping = mapping;
        // Shared, so that a close from another thread invalidates the view before the unmap.
        this.scope = Arena.ofShared();
        this.counters = mapping.reinterpret(scope, null).asSlice(0, (long) count * Long.BYTES);
    }

    /** Creates {@code count} counters, all 0, in a map named {@code name}. */
    public static SharedCounters create(String name, int count) throws BpfException {
        if (count <= 0) {
            throw new IllegalArgumentException("at least one counter, not " + count);
        }
        BpfMap map = BpfMap.create(MapType.ARRAY, name, Integer.BYTES, count * Long.BYTES, 1, BpfMap.MMAPABLE);
        try {
            long length = Math.max(Linux.pageSize(), (long) count * Long.BYTES);
            length = (length + Linux.pageSize() - 1) / Linux.pageSize() * Linux.pageSize();
            MemorySegment mapping = Linux.mmapShared(map.fd(), length, Linux.PROT_READ | Linux.PROT_WRITE, 0);
            return new SharedCounters(map, mapping, count);
        } catch (SyscallException e) {
            map.close();
            throw new BpfException("cannot map the counters of '" + name + "'", e, null);
        } catch (RuntimeException e) {
            map.close();
            throw e;
        }
    }

    /** The map's descriptor, for {@link Assembler#loadMapValue}. */
    public int fd() {
        return map.fd();
    }

    /** Counter {@code index} now. */
    public long get(int index) {
        return (long) COUNTER.getVolatile(counters, (long) index * Long.BYTES);
    }

    /** Adds {@code delta} to counter {@code index}, atomically with the programs' adds; returns the new value. */
    public long add(int index, long delta) {
        return (long) COUNTER.getAndAdd(counters, (long) index * Long.BYTES, delta) + delta;
    }

    /** Unmaps the counters and closes the descriptor, once; programs that use the map keep it alive. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            scope.close();
            Linux.munmap(mapping);
            map.close();
        }
    }
}
