package dev.eventloopguardian.bpf;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Reads the records that programs write into a {@link MapType#RINGBUF} map with
 * {@code bpf_ringbuf_output}, or {@code bpf_ringbuf_reserve} then {@code submit}.
 * <p>
 * The kernel's layout (kernel/bpf/ringbuf.c): the consumer position is a u64 at the start of
 * a page mapped read-write at offset 0; the producer position is a u64 at the start of the
 * next page, followed by the data, mapped read-only. The kernel would map the data twice in a row
 * for a record that wraps past the end to be contiguous; {@link RingReader}, which walks the
 * records, copies such a record in two pieces instead, and the reader's resident memory holds one
 * copy of the ring rather than two.
 * <p>
 * One thread consumes ({@link #poll}, {@link #consume}). {@link #close} may come from any
 * thread, the handler's included, and behaves as closing a {@link java.nio.channels.Selector}
 * does: a {@link #poll} waiting then returns at once, with the records it handed over (usually
 * 0), and frees the mappings and descriptors as it returns; any call after the close fails with
 * {@link IllegalStateException} instead of touching unmapped memory. A reading loop that another
 * thread stops by closing the ring:
 * <pre>{@code
 * while (!ring.isClosed()) {
 *     ring.poll(Duration.ofSeconds(1));   // IllegalStateException if the close came just now
 * }
 * }</pre>
 * The reader holds its own descriptor and mappings, so closing the {@link BpfMap} it was opened
 * from does not disturb it.
 */
public final class RingBuffer implements AutoCloseable {
    /** Receives each record. */
    @FunctionalInterface
    public interface RecordHandler {
        /**
         * {@code record} holds one record's bytes from position 0 to its limit, in the
         * machine's byte order. It is a read-only view of a buffer the reader reuses for the
         * next record: copy out what you keep. The record's space in the ring is already
         * released, so a slow handler does not make programs drop records. An exception
         * propagates out of {@link #poll}/{@link #consume}; the record counts as consumed.
         */
        void onRecord(ByteBuffer record);
    }

    private final int fd;
    /** An eventfd polled with {@link #fd}: {@link #close} signals it to end a waiting poll at once. */
    private final int wakeFd;
    private final MemorySegment consumerMapping;
    private final MemorySegment producerMapping;
    private final Arena scope;
    private final RingReader reader;
    private final String name;
    private final Object lifecycle = new Object();
    /** Calls in progress that read the mappings: while there is one, close leaves the freeing to it. */
    private int readers; // guarded by lifecycle
    private volatile boolean closed; // written under lifecycle

    private RingBuffer(String name, int fd, int wakeFd, long size, MemorySegment consumerMapping, MemorySegment producerMapping,
            RecordHandler handler) {
        this.name = name;
        this.fd = fd;
        this.wakeFd = wakeFd;
        this.consumerMapping = consumerMapping;
        this.producerMapping = producerMapping;
        // Shared, so that close() from another thread invalidates every view before the unmap.
        this.scope = Arena.ofShared();
        MemorySegment consumer = consumerMapping.reinterpret(scope, null);
        MemorySegment producer = producerMapping.reinterpret(scope, null).asReadOnly();
        this.reader = new RingReader(name, consumer.asSlice(0, Long.BYTES), producer.asSlice(0, Long.BYTES),
                producer.asSlice(Linux.pageSize(), size), handler);
    }

    /** Maps {@code map}'s ring; reading starts where its consumer position stands. */
    public static RingBuffer open(BpfMap map, RecordHandler handler) throws BpfException {
        if (map.type() != MapType.RINGBUF) {
            throw new IllegalArgumentException(map + " is not a ring buffer");
        }
        long page = Linux.pageSize();
        long size = map.maxEntries();
        int fd = -1;
        int wakeFd = -1;
        MemorySegment consumer = null;
        try {
            fd = Linux.duplicate(map.fd());
            wakeFd = Linux.eventFd();
            consumer = Linux.mmapShared(fd, page, Linux.PROT_READ | Linux.PROT_WRITE, 0);
            MemorySegment producer = Linux.mmapShared(fd, page + size, Linux.PROT_READ, page);
            return new RingBuffer(map.name(), fd, wakeFd, size, consumer, producer, handler);
        } catch (SyscallException e) {
            if (consumer != null) {
                Linux.munmap(consumer);
            }
            if (wakeFd >= 0) {
                Linux.close(wakeFd);
            }
            if (fd >= 0) {
                Linux.close(fd);
            }
            throw new BpfException("cannot map ring buffer '" + map.name() + "'", e, null);
        }
    }

    /**
     * Waits up to {@code timeout} for records, then hands every available one to the handler.
     * Returns how many it handed over, 0 when the time ran out. Records already waiting are
     * taken without a system call. Java's interrupt does not end the wait: {@link #close} does,
     * from any thread; or poll with a bounded timeout and check a flag between polls.
     *
     * @throws IllegalStateException if this ring was closed before the call
     */
    public int poll(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout " + timeout);
        }
        long deadline = System.nanoTime() + saturatedNanos(timeout);
        enter();
        try {
            for (;;) {
                int records = reader.consume();
                if (records > 0) {
                    return records;
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0 || closed) {
                    return 0;
                }
                if (reader.stoppedAtBusy()) {
                    // The fd reads as ready while a record is reserved but not submitted; the
                    // program holding it finishes within microseconds, so spin instead of sleeping.
                    Thread.onSpinWait();
                } else {
                    Linux.pollReadable((int) Math.min(Integer.MAX_VALUE, Math.ceilDiv(remaining, 1_000_000L)), fd, wakeFd);
                }
            }
        } finally {
            leave();
        }
    }

    /**
     * Hands every record available now to the handler, without waiting; returns how many.
     *
     * @throws IllegalStateException if this ring was closed
     */
    public int consume() {
        enter();
        try {
            return reader.consume();
        } finally {
            leave();
        }
    }

    /**
     * Bytes published by programs and not yet consumed, records still being written included.
     *
     * @throws IllegalStateException if this ring was closed
     */
    public long pendingBytes() {
        enter();
        try {
            return reader.pendingBytes();
        } finally {
            leave();
        }
    }

    /** Whether {@link #close} was called: then {@link #poll} no longer waits, and a new call fails. */
    public boolean isClosed() {
        return closed;
    }

    private void enter() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("ring buffer '" + name + "' is closed");
            }
            readers++;
        }
    }

    private void leave() {
        synchronized (lifecycle) {
            readers--;
            if (closed && readers == 0) {
                release(); // close came while we read: ours to free, now that nothing reads
            }
        }
    }

    /** The ring's data size in bytes (the map's {@code max_entries}). */
    public long size() {
        return reader.size();
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    /**
     * Unmaps the ring and closes the reader's descriptors; the map lives on while others hold it.
     * A {@link #poll} waiting in another thread returns at once and frees them as it returns, so
     * that it never reads memory unmapped under it. A second close does nothing: a second munmap
     * or close could hit whatever reused the address or number.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            if (readers > 0) {
                Linux.signalEventFd(wakeFd);
            } else {
                release();
            }
        }
    }

    private void release() {
        scope.close();
        Linux.munmap(producerMapping);
        Linux.munmap(consumerMapping);
        Linux.close(wakeFd);
        Linux.close(fd);
    }
}
