package dev.eventloopguardian.bpf;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The consumer side of the ring buffer protocol over three pieces of memory: the consumer
 * position, the producer position, and the data ({@code size} bytes). Apart from
 * {@link RingBuffer}, which owns the mappings and the waiting, so that the protocol can be
 * tested on plain memory.
 * <p>
 * The kernel can map the data twice in a row, so that a record that wraps past the end reads
 * as one piece (libbpf maps it so). We map it once and copy a wrapping record in two pieces: every
 * record is copied out anyway, and each mapped byte counts in the reader's resident memory, the
 * pages of both copies (16 MiB for an 8 MiB ring) as soon as they are mapped.
 * <p>
 * Ordering (kernel/bpf/ringbuf.c, libbpf's ringbuf_process_ring): a producer reserves space
 * by writing a header with the busy bit and publishing the new producer position with a
 * release store; it commits by replacing the header with {@code xchg}, busy bit cleared. So
 * an acquire load of the producer position makes the headers up to it visible, an acquire
 * load of a header without the busy bit makes that record's data visible, and a release
 * store of the consumer position, after our last read of the record, hands its space back.
 */
final class RingReader {
    // Atomic views of the positions and headers, coordinates (MemorySegment, long offset).
    private static final VarHandle U64 = JAVA_LONG.varHandle();
    private static final VarHandle U32 = JAVA_INT.varHandle();
    private static final int FIRST_COPY_BYTES = 4096;

    private final String name;
    private final MemorySegment consumerPosition;
    private final MemorySegment producerPosition;
    private final MemorySegment data;
    private final long size;
    private final long mask;
    private final RingBuffer.RecordHandler handler;

    private long consumed; // our copy of the consumer position: we are its only writer
    private boolean stoppedAtBusy;
    private byte[] copy = new byte[FIRST_COPY_BYTES];
    private MemorySegment copySegment = MemorySegment.ofArray(copy);
    private ByteBuffer copyView = readOnlyView(copy);

    RingReader(String name, MemorySegment consumerPosition, MemorySegment producerPosition, MemorySegment data,
            RingBuffer.RecordHandler handler) {
        this.name = name;
        this.consumerPosition = consumerPosition;
        this.producerPosition = producerPosition;
        this.data = data;
        this.size = data.byteSize();
        this.mask = size - 1;
        this.handler = handler;
        this.consumed = (long) U64.getAcquire(consumerPosition, 0L);
    }

    /**
     * Hands every committed record to the handler and returns how many. Stops at a record
     * still being written, and after one ring's worth of bytes, so that producers faster
     * than the handler cannot keep the call from returning.
     */
    int consume() {
        int records = 0;
        long budget = size;
        stoppedAtBusy = false;
        long producer = (long) U64.getAcquire(producerPosition, 0L);
        while (consumed != producer && budget > 0) {
            long offset = consumed & mask;
            int len = (int) U32.getAcquire(data, offset);
            if (RecordHeader.isBusy(len)) {
                stoppedAtBusy = true; // records after it may be committed, but order comes first
                break;
            }
            long span = RecordHeader.span(len);
            if (span > producer - consumed) {
                throw new IllegalStateException("ring buffer '" + name + "': the record at position " + consumed
                        + " spans " + span + " bytes but only " + (producer - consumed) + " are published");
            }
            int length = RecordHeader.dataLength(len);
            boolean deliver = !RecordHeader.isDiscarded(len);
            if (deliver) {
                copyOut(offset + RecordHeader.BYTES, length);
            }
            // Released before the handler runs: it works on our copy, and a slow handler (one
            // that symbolizes stacks, say) must not make programs drop records for want of space.
            consumed += span;
            budget -= span;
            U64.setRelease(consumerPosition, 0L, consumed);
            if (deliver) {
                records++;
                handler.onRecord(copyView.clear().limit(length).order(ByteOrder.nativeOrder()));
            }
            if (consumed == producer) {
                producer = (long) U64.getAcquire(producerPosition, 0L); // more may have come meanwhile
            }
        }
        return records;
    }

    /** Whether the last {@link #consume} stopped at a record that a program was still writing. */
    boolean stoppedAtBusy() {
        return stoppedAtBusy;
    }

    /** Bytes published and not yet consumed, records still being written included; from any thread. */
    long pendingBytes() {
        return (long) U64.getAcquire(producerPosition, 0L) - (long) U64.getAcquire(consumerPosition, 0L);
    }

    long size() {
        return size;
    }

    /** Copies {@code length} bytes from {@code offset}, which may be past the end: a record's data wraps to the start. */
    private void copyOut(long offset, int length) {
        if (length > copy.length) {
            copy = new byte[(int) Math.max(length, Math.min(2L * copy.length, size))];
            copySegment = MemorySegment.ofArray(copy);
            copyView = readOnlyView(copy);
        }
        long start = offset & mask; // a header ends at most at the end, so the data may start at the ring's start
        long beforeEnd = Math.min(length, size - start);
        MemorySegment.copy(data, start, copySegment, 0, beforeEnd);
        if (beforeEnd < length) {
            MemorySegment.copy(data, 0, copySegment, beforeEnd, length - beforeEnd);
        }
    }

    private static ByteBuffer readOnlyView(byte[] bytes) {
        return ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    }
}
