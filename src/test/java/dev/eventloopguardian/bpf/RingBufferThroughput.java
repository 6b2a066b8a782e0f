package dev.eventloopguardian.bpf;

import com.sun.management.ThreadMXBean;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

/**
 * How many records a second {@link RingBuffer} takes from programs that run at every context
 * switch of threads switching as fast as they can, and whether any are dropped. A main, not a
 * test, so that timing never makes the build flaky; run it as root:
 * {@code java --enable-native-access=ALL-UNNAMED -cp target/classes:target/test-classes
 * dev.eventloopguardian.bpf.RingBufferThroughput [seconds]}.
 * <p>
 * Producers are pairs of platform threads handing a token back and forth through semaphores,
 * so each hand-off is a switch-out of each thread; every thread has its own perf event running
 * the program. The consumer is this thread, either in a {@code poll(100 ms)} loop, woken by the
 * kernel as soon as it has caught up, or calling {@code consume()} every few milliseconds,
 * which batches records and spares the wake-ups. A baseline without programs shows what the
 * machine switches by itself.
 */
public final class RingBufferThroughput {
    private static final int RING_BYTES = 256 * 1024;
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    private RingBufferThroughput() {
    }

    public static void main(String[] args) throws Exception {
        Duration duration = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 3);
        System.out.printf("%d CPUs, ring %d KiB, %s per run%n", Runtime.getRuntime().availableProcessors(),
                RING_BYTES / 1024, duration);
        for (int pairs : new int[] {1, 2, 4}) {
            System.out.printf("%d pair(s), no program: %,.0f switches/s%n", pairs, baseline(pairs, duration));
            for (Duration batching : new Duration[] {Duration.ZERO, Duration.ofMillis(5)}) {
                measure("32 B records, " + consumer(batching), pairs, duration, batching,
                        maps -> RingPrograms.output(maps.sequence, maps.ring, maps.drops));
                measure("1 KiB records, " + consumer(batching), pairs, duration, batching,
                        maps -> RingPrograms.reserve(maps.sequence, maps.ring, maps.drops, 1024, false));
            }
        }
    }

    private record Maps(BpfMap sequence, BpfMap drops, BpfMap ring) implements AutoCloseable {
        static Maps create() throws BpfException {
            return new Maps(BpfMap.create(MapType.ARRAY, "elg_tp_seq", 4, 8, 1),
                    BpfMap.create(MapType.ARRAY, "elg_tp_drops", 4, 8, 1),
                    BpfMap.create(MapType.RINGBUF, "elg_tp_ring", 0, 0, RING_BYTES));
        }

        @Override
        public void close() {
            sequence.close();
            drops.close();
            ring.close();
        }
    }

    private static String consumer(Duration batching) {
        return batching.isZero() ? "poll(100 ms)" : "consume() every " + batching.toMillis() + " ms";
    }

    /** Zero {@code batching}: poll, woken by the kernel; otherwise consume() then sleep that long. */
    private static void measure(String what, int pairs, Duration duration, Duration batching,
            Function<Maps, Program> program) throws Exception {
        try (Maps maps = Maps.create();
             LoadedProgram loaded = LoadedProgram.load(ProgramType.PERF_EVENT, "elg_tp", program.apply(maps))) {
            long[] bytes = new long[1];
            try (RingBuffer reader = RingBuffer.open(maps.ring, record -> bytes[0] += record.remaining())) {
                reader.poll(Duration.ZERO); // warm the path before counting
                Producers producers = Producers.start(pairs, loaded);
                long cpu = THREADS.getCurrentThreadCpuTime();
                long allocated = THREADS.getCurrentThreadAllocatedBytes();
                long start = System.nanoTime();
                long records = 0;
                long polls = 0;
                while (System.nanoTime() - start < duration.toNanos()) {
                    if (batching.isZero()) {
                        records += reader.poll(Duration.ofMillis(100));
                    } else {
                        records += reader.consume();
                        Thread.sleep(batching);
                    }
                    polls++;
                }
                long elapsed = System.nanoTime() - start;
                cpu = THREADS.getCurrentThreadCpuTime() - cpu;
                allocated = THREADS.getCurrentThreadAllocatedBytes() - allocated;
                producers.stop();
                long counted = records;
                while (reader.pendingBytes() > 0) {
                    records += reader.poll(Duration.ofMillis(100));
                }
                long runs = maps.sequence.lookupLong(0);
                long drops = maps.drops.lookupLong(0);
                System.out.printf("  %-42s %,9.0f records/s, %,d drops of %,d runs%s, consumer %.0f%% CPU,"
                                + " %.2f us CPU and %.1f bytes allocated per record, %.1f records per call%n",
                        what, counted * 1e9 / elapsed, drops, runs,
                        records + drops == runs ? "" : " (MISMATCH: " + records + " records)",
                        100.0 * cpu / elapsed, cpu / 1e3 / Math.max(1, counted), (double) allocated / Math.max(1, counted),
                        (double) counted / polls);
            }
        }
    }

    private static double baseline(int pairs, Duration duration) throws Exception {
        Producers producers = Producers.start(pairs, null);
        Thread.sleep(duration);
        long start = producers.handOffs();
        long begin = System.nanoTime();
        Thread.sleep(duration);
        double rate = (producers.handOffs() - start) * 2 * 1e9 / (System.nanoTime() - begin);
        producers.stop();
        return rate;
    }

    /** Pairs of threads passing a token; each pass switches both out once. */
    private static final class Producers {
        private volatile boolean running = true;
        private final List<Runnable> joins = new ArrayList<>();
        private final List<Semaphore> semaphores = new ArrayList<>();
        private final java.util.concurrent.atomic.LongAdder handOffs = new java.util.concurrent.atomic.LongAdder();

        static Producers start(int pairs, LoadedProgram program) throws InterruptedException {
            Producers producers = new Producers();
            for (int i = 0; i < pairs; i++) {
                Semaphore ping = new Semaphore(0);
                Semaphore pong = new Semaphore(0);
                producers.semaphores.add(ping);
                producers.semaphores.add(pong);
                producers.thread("elg-ping-" + i, program, () -> {
                    while (producers.running) {
                        ping.release();
                        pong.acquire();
                        producers.handOffs.increment();
                    }
                });
                producers.thread("elg-pong-" + i, program, () -> {
                    while (producers.running) {
                        ping.acquire();
                        pong.release();
                    }
                });
            }
            return producers;
        }

        private void thread(String name, LoadedProgram program, ProducerThread.Body body) throws InterruptedException {
            if (program != null) {
                ProducerThread producer = ProducerThread.start(name, program, body);
                joins.add(() -> join(producer));
            } else {
                Thread thread = Thread.ofPlatform().name(name).daemon().start(() -> {
                    try {
                        body.run();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                joins.add(() -> join(thread));
            }
        }

        long handOffs() {
            return handOffs.sum();
        }

        void stop() {
            running = false;
            semaphores.forEach(semaphore -> semaphore.release(1_000));
            joins.forEach(Runnable::run);
        }

        private static void join(ProducerThread producer) {
            try {
                producer.join();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private static void join(Thread thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
