package dev.eventloopguardian.bpf;

import dev.eventloopguardian.bpf.RingPrograms.Event;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.OpenDescriptors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real programs write into a real ring buffer at the context switches of a Java thread, and
 * {@link RingBuffer} reads them back. The program numbers its runs (see {@link RingPrograms}),
 * so that every run is either a record that arrived or a counted drop, never silently lost.
 */
@KernelTest(needs = {Feature.PERF_EVENT_PROGRAM, Feature.ARRAY_MAP, Feature.RINGBUF, Feature.RINGBUF_HELPERS})
class RingBufferTest {
    private static final int PAGE = Linux.pageSize();

    private final List<BpfMap> maps = new ArrayList<>();
    private BpfMap sequence;
    private BpfMap drops;
    private final List<Event> events = new ArrayList<>();

    @BeforeEach
    void counters() throws BpfException {
        sequence = map(MapType.ARRAY, "elg_t_seq", 4, 8, 1);
        drops = map(MapType.ARRAY, "elg_t_drops", 4, 8, 1);
    }

    @AfterEach
    void close() {
        maps.forEach(BpfMap::close);
    }

    private BpfMap map(MapType type, String name, int keySize, int valueSize, int maxEntries) throws BpfException {
        BpfMap map = BpfMap.create(type, name, keySize, valueSize, maxEntries);
        maps.add(map);
        return map;
    }

    private BpfMap ring(int size) throws BpfException {
        return map(MapType.RINGBUF, "elg_t_ring", 0, 0, size);
    }

    private LoadedProgram load(Program program) throws BpfException {
        return LoadedProgram.load(ProgramType.PERF_EVENT, "elg_t_ring", program);
    }

    private void collect(ByteBuffer record) {
        events.add(Event.of(record));
    }

    /** Sleeps {@code times} times: each sleep is at least one switch-out, so one program run. */
    private static void sleep(int times) {
        for (int i = 0; i < times; i++) {
            LockSupport.parkNanos(20_000);
        }
    }

    /**
     * Consumes until every numbered run is accounted for, as a record or a drop. The producer
     * has stopped by now, so this ends at once unless a record is missing.
     */
    private void drain(RingBuffer reader) throws BpfException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (events.size() + drops.lookupLong(0) < sequence.lookupLong(0) && System.nanoTime() < deadline) {
            reader.poll(Duration.ofMillis(100));
        }
        assertThat(events.size() + drops.lookupLong(0)).as("records plus drops").isEqualTo(sequence.lookupLong(0));
    }

    /** Polls until nothing is left unread; returns how many polls found records. */
    private static int consumeAll(RingBuffer reader) {
        int polls = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (reader.pendingBytes() > 0) {
            assertThat(System.nanoTime()).as("time to consume %d pending bytes", reader.pendingBytes()).isLessThan(deadline);
            polls += reader.poll(Duration.ofMillis(100)) > 0 ? 1 : 0;
        }
        return polls;
    }

    private List<Long> sequenceNumbers() {
        return events.stream().map(Event::seq).toList();
    }

    private static List<Long> oneTo(long last) {
        return LongStream.rangeClosed(1, last).boxed().toList();
    }

    @Test
    void recordsArriveIntactInOrderFromTheThreadThatSwitched() throws Exception {
        BpfMap ring = ring(64 * PAGE);
        try (LoadedProgram program = load(RingPrograms.output(sequence, ring, drops));
             RingBuffer reader = RingBuffer.open(ring, this::collect)) {
            int tid = ProducerThread.run(program, () -> sleep(50));
            drain(reader);
            long runs = sequence.lookupLong(0);
            assertThat(runs).isGreaterThanOrEqualTo(50);
            assertThat(drops.lookupLong(0)).isZero();
            assertThat(sequenceNumbers()).isEqualTo(oneTo(runs));
            assertThat(events).allSatisfy(event -> {
                assertThat(event.intact()).as("record %s", event).isTrue();
                assertThat(event.tgid()).isEqualTo(Linux.pid());
                assertThat(event.tid()).isEqualTo(tid);
            });
            assertThat(events).extracting(Event::length).contains(20, 24, 28, 32);
            assertThat(reader.pendingBytes()).isZero();
        }
    }

    @Test
    void aFullRingMakesTheProgramFailAndCountTheDropUntilTheReaderMakesRoom() throws Exception {
        BpfMap ring = ring(PAGE);
        try (LoadedProgram program = load(RingPrograms.output(sequence, ring, drops));
             RingBuffer reader = RingBuffer.open(ring, this::collect)) {
            ProducerThread.run(program, () -> sleep(400)); // about 36 bytes a record: 400 need 3.5 pages
            long runs = sequence.lookupLong(0);
            long dropped = drops.lookupLong(0);
            assertThat(dropped).isPositive();
            // The kernel refuses a record that would bring the unread bytes to the ring's size.
            assertThat(reader.pendingBytes()).isLessThan(PAGE).isGreaterThan(PAGE - 2 * 40);

            drain(reader);
            assertThat(events.size() + dropped).isEqualTo(runs);
            // Nobody read while the ring filled: the first records got in, every later one was dropped.
            assertThat(sequenceNumbers()).isEqualTo(oneTo(events.size()));
            assertThat(events).allMatch(Event::intact);

            ProducerThread.run(program, () -> sleep(20));
            drain(reader);
            assertThat(drops.lookupLong(0)).as("no drop once there is room").isEqualTo(dropped);
            assertThat(sequenceNumbers().subList((int) (runs - dropped), events.size()))
                    .isEqualTo(LongStream.rangeClosed(runs + 1, sequence.lookupLong(0)).boxed().toList());
        }
    }

    @Test
    void recordsWrapAroundTheEndOfTheRingAcrossManyPolls() throws Exception {
        int size = 4 * PAGE;
        int batches = 25;
        BpfMap ring = ring(size);
        Semaphore batchDone = new Semaphore(0);
        Semaphore nextBatch = new Semaphore(0);
        try (LoadedProgram program = load(RingPrograms.output(sequence, ring, drops));
             RingBuffer reader = RingBuffer.open(ring, this::collect)) {
            ProducerThread producer = ProducerThread.start("elg-wrap", program, () -> {
                for (int batch = 0; batch < batches; batch++) {
                    sleep(100); // about 3.6 KB of records: well inside the ring, so nothing drops
                    batchDone.release();
                    nextBatch.acquire();
                }
            });
            int polls = 0;
            for (int batch = 0; batch < batches; batch++) {
                batchDone.acquire();
                polls += consumeAll(reader);
                nextBatch.release();
            }
            producer.join();
            drain(reader);

            long runs = sequence.lookupLong(0);
            assertThat(drops.lookupLong(0)).isZero();
            assertThat(sequenceNumbers()).isEqualTo(oneTo(runs));
            assertThat(events).allMatch(Event::intact);
            assertThat(polls).isGreaterThanOrEqualTo(batches);
            long bytes = 0;
            int wrapped = 0;
            for (Event event : events) {
                long start = bytes % size;
                wrapped += start + RecordHeader.BYTES + event.length() > size ? 1 : 0;
                bytes += RecordHeader.span(event.length());
            }
            assertThat(bytes).as("bytes through the ring").isGreaterThan(5L * size);
            assertThat(wrapped).as("records whose data ran past the end of the ring").isPositive();
        }
    }

    @Test
    void discardedRecordsAreSkippedAndReservedOnesArrive() throws Exception {
        BpfMap ring = ring(16 * PAGE);
        List<long[]> records = new ArrayList<>();
        try (LoadedProgram program = load(RingPrograms.reserveAndDiscardOdd(sequence, ring, drops));
             RingBuffer reader = RingBuffer.open(ring, record -> records.add(
                     new long[] {record.remaining(), record.getLong(0), record.getLong(8)}))) {
            ProducerThread.run(program, () -> sleep(40));
            long runs = sequence.lookupLong(0);
            consumeAll(reader);
            assertThat(drops.lookupLong(0)).isZero();
            assertThat(records).extracting(r -> r[1]).isEqualTo(LongStream.rangeClosed(1, runs)
                    .filter(seq -> seq % 2 == 0).boxed().toList());
            assertThat(records).allSatisfy(r -> {
                assertThat(r[0]).isEqualTo(16);
                assertThat(r[2]).isEqualTo(~r[1]);
            });
        }
    }

    @Test
    void pollWaitsForARecordAndGivesUpAfterTheTimeout() throws Exception {
        BpfMap ring = ring(PAGE);
        try (LoadedProgram program = load(RingPrograms.output(sequence, ring, drops));
             RingBuffer reader = RingBuffer.open(ring, this::collect)) {
            long start = System.nanoTime();
            assertThat(reader.poll(Duration.ofMillis(200))).isZero();
            assertThat(System.nanoTime() - start).as("waited").isGreaterThanOrEqualTo(Duration.ofMillis(190).toNanos());
            assertThat(reader.poll(Duration.ZERO)).isZero();

            ProducerThread producer = ProducerThread.start("elg-late", program, () -> {
                Thread.sleep(300);
            });
            int records = reader.poll(Duration.ofSeconds(30));
            producer.join();
            assertThat(records).isPositive();
            assertThat(events).allMatch(Event::intact);
        }
    }

    @Test
    void theReaderOutlivesTheMapDescriptorAndFailsCleanlyAfterClose() throws Exception {
        BpfMap ring = ring(PAGE);
        RingBuffer reader = RingBuffer.open(ring, this::collect);
        try (LoadedProgram program = load(RingPrograms.output(sequence, ring, drops))) {
            ring.close(); // the program and the reader still hold the map
            ProducerThread.run(program, () -> sleep(5));
            drain(reader);
            assertThat(events).hasSizeGreaterThanOrEqualTo(5).allMatch(Event::intact);
        } finally {
            reader.close();
            reader.close();
        }
        assertThatThrownBy(reader::consume).isInstanceOf(IllegalStateException.class);
    }

    /**
     * A reader thread waiting in poll must not outlive the ring it reads: close() from another
     * thread ends the wait at once (it would otherwise sit out its timeout, then read memory
     * unmapped under it), frees the reader's descriptors, and a later poll says the ring is closed.
     */
    @Test
    void closeFromAnotherThreadEndsAWaitingPollAtOnce() throws Exception {
        BpfMap ring = ring(PAGE);
        List<String> descriptorsBefore = OpenDescriptors.targets();
        RingBuffer reader = RingBuffer.open(ring, this::collect);
        CompletableFuture<Integer> polled = new CompletableFuture<>();
        Thread.ofPlatform().name("elg-ring-poller").start(() -> {
            try {
                polled.complete(reader.poll(Duration.ofSeconds(10)));
            } catch (Throwable t) {
                polled.completeExceptionally(t);
            }
        });
        Thread.sleep(300); // long enough to be waiting in ppoll; had it not started yet, poll would throw
        long closing = System.nanoTime();
        reader.close();
        assertThat(polled.get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(Duration.ofSeconds(1));

        assertThat(reader.isClosed()).isTrue();
        assertThatThrownBy(() -> reader.poll(Duration.ofSeconds(10)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ring buffer 'elg_t_ring' is closed");
        List<String> after = OpenDescriptors.targets();
        assertThat(after).as("left open: %s", OpenDescriptors.added(descriptorsBefore, after)).hasSize(descriptorsBefore.size());
    }

    @Test
    void onlyARingBufferMapCanBeRead() throws Exception {
        assertThatThrownBy(() -> RingBuffer.open(sequence, this::collect))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ARRAY map 'elg_t_seq'")
                .hasMessageContaining("is not a ring buffer");
    }
}
