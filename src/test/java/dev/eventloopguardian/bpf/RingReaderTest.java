package dev.eventloopguardian.bpf;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The consumer protocol on plain memory laid out as the kernel maps a ring, with a producer
 * written here the way kernel/bpf/ringbuf.c produces: header with the busy bit, producer
 * position published, data, header rewritten without the bit. This covers what a real
 * program cannot show, such as a record caught while still being written.
 */
class RingReaderTest {
    private static final int SIZE = 256;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment consumerPosition = arena.allocate(8, 8);
    private final MemorySegment producerPosition = arena.allocate(8, 8);
    private final MemorySegment data = arena.allocate(SIZE, 8);
    private final List<byte[]> received = new ArrayList<>();
    private RingBuffer.RecordHandler handler = record -> received.add(bytes(record));
    private long produced;

    @AfterEach
    void free() {
        arena.close();
    }

    private RingReader reader() {
        return new RingReader("test", consumerPosition, producerPosition, data, record -> handler.onRecord(record));
    }

    /** Reserves and fills a record; returns its header's offset so that a test can commit it later. */
    private long reserve(byte[] payload) {
        long at = produced;
        write(at, JAVA_INT, RecordHeader.BUSY | payload.length);
        produced += RecordHeader.span(payload.length);
        producerPosition.set(JAVA_LONG, 0, produced);
        for (int i = 0; i < payload.length; i++) {
            writeByte(at + RecordHeader.BYTES + i, payload[i]);
        }
        return at;
    }

    private void commit(long at, boolean discard) {
        int len = (int) readHeader(at) & ~RecordHeader.BUSY;
        write(at, JAVA_INT, discard ? len | RecordHeader.DISCARD : len);
    }

    private void output(byte[] payload) {
        commit(reserve(payload), false);
    }

    private long readHeader(long at) {
        return data.get(JAVA_INT, at % SIZE);
    }

    // Positions grow without end; the data is at the position modulo the ring's size (mapped once).
    private void write(long at, ValueLayout.OfInt layout, int value) {
        data.set(layout, at % SIZE, value);
    }

    private void writeByte(long at, byte value) {
        data.set(JAVA_BYTE, at % SIZE, value);
    }

    private static byte[] bytes(ByteBuffer record) {
        byte[] copy = new byte[record.remaining()];
        record.get(copy);
        return copy;
    }

    private static byte[] payload(int length, int seed) {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            payload[i] = (byte) (seed * 31 + i);
        }
        return payload;
    }

    @Test
    void handsOverRecordsInOrderWithTheirExactBytesAndReleasesTheirAlignedSpans() {
        RingReader reader = reader();
        output(payload(1, 1));
        output(payload(8, 2));
        output(payload(13, 3));
        assertThat(reader.consume()).isEqualTo(3);
        assertThat(received).containsExactly(payload(1, 1), payload(8, 2), payload(13, 3));
        assertThat(consumerPosition.get(JAVA_LONG, 0)).isEqualTo(16 + 16 + 24);
        assertThat(reader.pendingBytes()).isZero();
        assertThat(reader.consume()).isZero();
    }

    @Test
    void stopsAtARecordStillBeingWrittenEvenWhenLaterOnesAreCommitted() {
        RingReader reader = reader();
        output(payload(4, 1));
        long busy = reserve(payload(4, 2));
        output(payload(4, 3));
        assertThat(reader.consume()).isEqualTo(1);
        assertThat(reader.stoppedAtBusy()).isTrue();
        assertThat(consumerPosition.get(JAVA_LONG, 0)).isEqualTo(busy);
        commit(busy, false);
        assertThat(reader.consume()).isEqualTo(2);
        assertThat(reader.stoppedAtBusy()).isFalse();
        assertThat(received).containsExactly(payload(4, 1), payload(4, 2), payload(4, 3));
    }

    @Test
    void skipsDiscardedRecordsButReleasesTheirSpace() {
        RingReader reader = reader();
        commit(reserve(payload(20, 1)), true);
        output(payload(20, 2));
        assertThat(reader.consume()).isEqualTo(1);
        assertThat(received).containsExactly(payload(20, 2));
        assertThat(consumerPosition.get(JAVA_LONG, 0)).isEqualTo(64);
    }

    @Test
    void aRecordThatWrapsPastTheEndArrivesWhole() {
        RingReader reader = reader();
        output(payload(SIZE - 8 - 40, 1)); // ends 40 bytes before the end of the ring
        assertThat(reader.consume()).isEqualTo(1);
        output(payload(100, 2)); // header at 216, data runs on to position 324, i.e. 68 in the ring
        assertThat(consumerPosition.get(JAVA_LONG, 0) % SIZE + 8 + 100).isGreaterThan(SIZE);
        assertThat(reader.consume()).isEqualTo(1);
        assertThat(received.get(1)).isEqualTo(payload(100, 2));
        assertThat(consumerPosition.get(JAVA_LONG, 0)).isEqualTo(216 + 112);
    }

    @Test
    void aConsumerStartsWhereThePreviousOneLeftOff() {
        output(payload(4, 1));
        reader().consume();
        output(payload(4, 2));
        assertThat(reader().consume()).isEqualTo(1);
        assertThat(received).containsExactly(payload(4, 1), payload(4, 2));
    }

    @Test
    void aHandlerThatThrowsHasStillConsumedItsRecord() {
        RingReader reader = reader();
        output(payload(4, 1));
        output(payload(4, 2));
        handler = record -> {
            throw new IllegalStateException("handler failed");
        };
        assertThatThrownBy(reader::consume).hasMessage("handler failed");
        assertThat(consumerPosition.get(JAVA_LONG, 0)).isEqualTo(16);
        handler = record -> received.add(bytes(record));
        assertThat(reader.consume()).isEqualTo(1);
        assertThat(received).containsExactly(payload(4, 2));
    }

    @Test
    void theRecordViewIsReadOnlyInNativeOrderWhateverTheLastHandlerDidToIt() {
        RingReader reader = reader();
        output(payload(8, 1));
        output(payload(8, 2));
        List<ByteOrder> orders = new ArrayList<>();
        handler = record -> {
            orders.add(record.order());
            assertThat(record.isReadOnly()).isTrue();
            assertThat(record.position()).isZero();
            assertThat(record.limit()).isEqualTo(8);
            record.order(ByteOrder.BIG_ENDIAN).position(5);
        };
        reader.consume();
        assertThat(orders).containsOnly(ByteOrder.nativeOrder()).hasSize(2);
    }

    @Test
    void aRecordLargerThanTheCopyBufferSoFarIsCopiedWhole() {
        Arena big = Arena.ofConfined();
        try {
            int size = 16384;
            MemorySegment bigData = big.allocate(size, 8);
            byte[] payload = payload(6000, 7);
            bigData.set(JAVA_INT, 0, payload.length);
            MemorySegment.copy(payload, 0, bigData, JAVA_BYTE, 8, payload.length);
            producerPosition.set(JAVA_LONG, 0, RecordHeader.span(payload.length));
            RingReader reader = new RingReader("big", consumerPosition, producerPosition, bigData,
                    record -> received.add(bytes(record)));
            assertThat(reader.consume()).isEqualTo(1);
            assertThat(received).containsExactly(payload);
        } finally {
            big.close();
        }
    }

    @Test
    void aRecordWhoseDataWrapsPastTheEndIsHandedOverWhole() {
        RingReader reader = reader();
        output(payload(SIZE - 32 - 8, 1)); // the next header sits 32 bytes before the end
        assertThat(reader.consume()).isEqualTo(1);
        output(payload(60, 2)); // 24 bytes before the end, 36 after
        output(payload(5, 3));
        assertThat(reader.consume()).isEqualTo(2);
        assertThat(received).containsExactly(payload(SIZE - 40, 1), payload(60, 2), payload(5, 3));
        assertThat(reader.pendingBytes()).isZero();
    }

    @Test
    void oneCallStopsAfterARingsWorthOfBytesWhenProducersKeepUp() {
        RingReader reader = reader();
        output(payload(24, 0));
        handler = record -> {
            received.add(bytes(record));
            output(payload(24, received.size())); // a producer as fast as the handler
        };
        assertThat(reader.consume()).isEqualTo(SIZE / 32);
        assertThat(reader.pendingBytes()).isEqualTo(32);
    }

    @Test
    void aLengthBeyondWhatIsPublishedIsReportedNotFollowed() {
        RingReader reader = reader();
        write(0, JAVA_INT, 100);
        producerPosition.set(JAVA_LONG, 0, 16);
        assertThatThrownBy(reader::consume)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("ring buffer 'test': the record at position 0 spans 112 bytes but only 16 are published");
    }
}
