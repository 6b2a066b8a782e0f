package dev.eventloopguardian.jvm;

import dev.eventloopguardian.testing.NativeSleep;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import reactor.blockhound.BlockHound;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * One JVM, one tool: runs each blocking scenario of {@link BlockHoundComparisonTest} once on a
 * Vert.x 5 event loop, watched by BlockHound ({@code blockhound}) or by the guardian
 * ({@code guardian}), and prints one line per scenario:
 * {@code result SCENARIO caught=BOOL frame=BOOL reported=WHAT}. "caught" means the tool reported
 * something on the event loop during the scenario's slot; "frame" that a report's Java stack has
 * the scenario's own method on it. A {@code report} line per report follows, for the record.
 *
 * <p>Arguments: the mode, and a directory for the FIFO and the small file. A fresh JVM for each
 * tool because BlockHound must be installed before the code it checks runs, with JVM flags of its
 * own, and neither tool should see the other's instrumentation.
 *
 * <p>The scenarios run on timers of the event loop itself, one slot each, and no task reaches the
 * loop from another thread while they run. When each scenario was submitted with
 * {@code runOnContext} from the main thread, the guardian reported, in each of 9 runs, one or two
 * contended monitors on the loop (0.2 to 0.3 ms, the three whose length was printed) besides the
 * scenarios' own blocks, their stacks
 * (taken later) wherever the loop was by then; with the timers, none. Most likely the selector's
 * wake-up lock ({@code EPollSelectorImpl.interruptLock}): the submitting thread holds it while it
 * writes the wake-up, and the woken loop takes it to clear that. A real wait of the loop, but one
 * that belongs to how work reaches it, not to the scenario.
 */
public final class BlockingScenariosUnderOneTool {
    /** How long each scenario blocks, the figure the comparison's table is about. */
    private static final long BLOCK_MILLIS = 100;
    /**
     * Each scenario's slot on the loop. The guardian hands a call on when it ends, so a 100 ms
     * block is reported well within it; BlockHound reports in the call itself.
     */
    private static final long SLOT_NANOS = TimeUnit.MILLISECONDS.toNanos(1_500);
    /** How long before its scenario a lock holder takes the lock. */
    private static final long LEAD_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int STACK_FRAMES_SHOWN = 8;

    /** What a tool reported: on which thread, what, with which Java stack, and when it arrived. */
    private record Report(String threadName, String what, List<StackTraceElement> javaStack, long arrivedNanos) {
    }

    /** A scenario's code on the event loop. */
    private interface OnTheLoop {
        String run() throws Throwable;
    }

    /**
     * What another thread does around a scenario that starts at {@code startNanos}, so that it
     * blocks (a lock holder, a late writer); returns that thread, joined after the scenario.
     */
    private interface Meanwhile {
        Thread start(long startNanos) throws Exception;
    }

    private static final Meanwhile NOTHING_MEANWHILE = startNanos -> null;

    /** One scenario: its name in the table, the method a report should name, what runs where. */
    private record Scenario(String name, String methodName, OnTheLoop onTheLoop, Meanwhile meanwhile) {
    }

    private final List<Report> reports = new CopyOnWriteArrayList<>();
    private final Object contendedLock = new Object();
    private final Object waitedOnMonitor = new Object();
    private final Path scratch;
    private Socket silentSocket;

    private BlockingScenariosUnderOneTool(Path scratch) {
        this.scratch = scratch;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path scratch = Files.createTempDirectory(Path.of(args[1]), "blockhound-comparison-");
        new BlockingScenariosUnderOneTool(scratch).run(mode);
    }

    private void run(String mode) throws Exception {
        if (mode.equals("blockhound")) {
            installBlockHound();
        }
        // One event loop, so that every scenario runs on vert.x-eventloop-thread-0.
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        CompletableFuture<String> started = new CompletableFuture<>();
        vertx.runOnContext(unused -> started.complete("started")); // the loop thread exists from its first task on
        started.get(10, TimeUnit.SECONDS);
        EventLoopGuardian guardian = mode.equals("guardian") ? installGuardian() : null;
        Path fifo = scratch.resolve("fifo");
        Path smallFile = scratch.resolve("small");
        try (ServerSocket silentServer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), silentServer.getLocalPort())) {
            silentSocket = socket; // connected in the backlog, never accepted, never written to
            Files.write(smallFile, new byte[4096]);
            Files.readAllBytes(smallFile); // now in the page cache
            runOnLoopTimers(vertx, List.of(
                    new Scenario("sleep", "sleepOnTheLoop", this::sleepOnTheLoop, NOTHING_MEANWHILE),
                    new Scenario("future", "awaitIncompleteFutureOnTheLoop", this::awaitIncompleteFutureOnTheLoop,
                            NOTHING_MEANWHILE),
                    new Scenario("monitor", "enterContendedMonitorOnTheLoop", this::enterContendedMonitorOnTheLoop,
                            this::holdTheContendedLockThroughTheStart),
                    new Scenario("wait", "waitOnTheLoop", this::waitOnTheLoop, NOTHING_MEANWHILE),
                    new Scenario("socket-read", "readSilentSocketOnTheLoop", this::readSilentSocketOnTheLoop, NOTHING_MEANWHILE),
                    new Scenario("native-sleep", "sleepNativelyOnTheLoop", this::sleepNativelyOnTheLoop, NOTHING_MEANWHILE),
                    new Scenario("fifo-open", "openFifoOnTheLoop", () -> openFifoOnTheLoop(fifo),
                            startNanos -> writeTheFifoABlockAfterTheStart(fifo, startNanos)),
                    new Scenario("cached-file-read", "readCachedFileOnTheLoop", () -> readCachedFileOnTheLoop(smallFile),
                            NOTHING_MEANWHILE),
                    new Scenario("park-50us-x20", "parkBrieflyOnTheLoop", this::parkBrieflyOnTheLoop, NOTHING_MEANWHILE)));
        } finally {
            if (guardian != null) {
                guardian.close();
            }
            vertx.close().await(10, TimeUnit.SECONDS);
            Files.deleteIfExists(fifo);
            Files.deleteIfExists(smallFile);
            Files.deleteIfExists(scratch);
        }
    }

    /**
     * BlockHound with Vert.x's event loops as its non-blocking threads (Netty's own integration,
     * found through META-INF/services, would mark them too). Its default callback throws a
     * {@code BlockingOperationError} in the blocking thread; this one records the call and its
     * stack, taken there and then, and lets it go on, so that each scenario runs to its end.
     */
    private void installBlockHound() {
        BlockHound.builder()
                .nonBlockingThreadPredicate(current -> current.or(thread -> thread.getName().startsWith("vert.x-eventloop-thread")))
                .blockingMethodCallback(method -> reports.add(new Report(Thread.currentThread().getName(), method.toString(),
                        Arrays.asList(new Throwable().getStackTrace()), System.nanoTime())))
                .install();
    }

    private EventLoopGuardian installGuardian() {
        return EventLoopGuardian.builder().knownEventLoops()
                .onBlockingCall(call -> reports.add(new Report(call.threadName(),
                        call.kind().name().toLowerCase(java.util.Locale.ROOT) + " in " + call.syscall()
                                + (call.blockedNanos().isPresent() ? " for " + call.blockedNanos().getAsLong() / 1_000 + " us" : ""),
                        call.javaStack(), System.nanoTime())))
                .install();
    }

    /**
     * Runs each scenario in its own slot, on a timer of the event loop, the next one set by the one
     * before: the only task submitted from this thread is the first timer's, a slot ahead. This
     * thread meanwhile starts each scenario's helper before its slot, waits for its outcome, and at
     * the end prints what was reported on the loop in each slot.
     */
    private void runOnLoopTimers(Vertx vertx, List<Scenario> scenarios) throws Exception {
        long firstStart = System.nanoTime() + SLOT_NANOS;
        long[] startedAt = new long[scenarios.size()];
        List<CompletableFuture<String>> outcomes = scenarios.stream().map(scenario -> new CompletableFuture<String>()).toList();
        vertx.runOnContext(unused -> runInItsSlot(vertx, scenarios, 0, firstStart, startedAt, outcomes));
        for (int i = 0; i < scenarios.size(); i++) {
            Thread helper = scenarios.get(i).meanwhile().start(firstStart + i * SLOT_NANOS);
            outcomes.get(i).get(SLOT_NANOS * 2, TimeUnit.NANOSECONDS);
            if (helper != null) {
                helper.join();
            }
        }
        long lastSlotEnd = startedAt[scenarios.size() - 1] + SLOT_NANOS;
        Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(lastSlotEnd - System.nanoTime())));
        for (int i = 0; i < scenarios.size(); i++) {
            long slotStart = startedAt[i];
            long slotEnd = i + 1 < scenarios.size() ? startedAt[i + 1] : lastSlotEnd;
            List<Report> inTheSlot = reports.stream().filter(report -> report.threadName().startsWith("vert.x-eventloop-thread"))
                    .filter(report -> report.arrivedNanos() >= slotStart && report.arrivedNanos() < slotEnd).toList();
            printOutcome(scenarios.get(i), outcomes.get(i).join(), inTheSlot);
        }
    }

    /** On the loop: waits for the scenario's slot on a timer, runs it, sets the next one's timer. */
    private static void runInItsSlot(Vertx vertx, List<Scenario> scenarios, int index, long firstStart, long[] startedAt,
                                     List<CompletableFuture<String>> outcomes) {
        long untilTheSlot = firstStart + index * SLOT_NANOS - System.nanoTime();
        vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(untilTheSlot)), timer -> {
            startedAt[index] = System.nanoTime();
            try {
                outcomes.get(index).complete(scenarios.get(index).onTheLoop().run());
            } catch (Throwable e) {
                outcomes.get(index).completeExceptionally(e);
            }
            if (index + 1 < scenarios.size()) {
                runInItsSlot(vertx, scenarios, index + 1, firstStart, startedAt, outcomes);
            }
        });
    }

    private static void printOutcome(Scenario scenario, String outcome, List<Report> inTheSlot) {
        boolean frame = inTheSlot.stream().anyMatch(report -> report.javaStack().stream()
                .anyMatch(element -> element.getMethodName().equals(scenario.methodName())));
        System.out.printf("result %s caught=%b frame=%b reported=%s (scenario: %s)%n", scenario.name(), !inTheSlot.isEmpty(),
                frame, inTheSlot.stream().map(Report::what).toList(), outcome);
        // Where each report was, innermost frames first: for the record, and for a report the scenario did not explain.
        inTheSlot.forEach(report -> System.out.printf("report %s %s at %s%n", scenario.name(), report.what(),
                report.javaStack().stream().limit(STACK_FRAMES_SHOWN).map(StackTraceElement::toString).toList()));
        System.out.flush();
    }

    // The scenarios, on the event loop. Each has a method of its own, the frame a report should name.

    private String sleepOnTheLoop() throws InterruptedException {
        Thread.sleep(BLOCK_MILLIS);
        return "slept";
    }

    private String awaitIncompleteFutureOnTheLoop() throws InterruptedException, ExecutionException {
        try {
            return new CompletableFuture<String>().get(BLOCK_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return "timed out";
        }
    }

    private String enterContendedMonitorOnTheLoop() {
        synchronized (contendedLock) {
            return "entered";
        }
    }

    private String waitOnTheLoop() throws InterruptedException {
        synchronized (waitedOnMonitor) {
            waitedOnMonitor.wait(BLOCK_MILLIS);
            return "waited";
        }
    }

    private String readSilentSocketOnTheLoop() throws IOException {
        silentSocket.setSoTimeout((int) BLOCK_MILLIS);
        try {
            return "read " + silentSocket.getInputStream().read();
        } catch (SocketTimeoutException e) {
            return "timed out";
        }
    }

    /** An FFM downcall: the thread sleeps in clock_nanosleep, where no Java method is involved. */
    private String sleepNativelyOnTheLoop() throws Throwable {
        NativeSleep.usleep(BLOCK_MILLIS * 1_000);
        return "slept natively";
    }

    private String openFifoOnTheLoop(Path fifo) throws IOException {
        return Files.readString(fifo); // the open sleeps until a writer opens the other end
    }

    private String readCachedFileOnTheLoop(Path smallFile) throws IOException {
        return "read " + Files.readAllBytes(smallFile).length + " bytes";
    }

    private String parkBrieflyOnTheLoop() {
        for (int i = 0; i < 20; i++) {
            LockSupport.parkNanos(50_000);
        }
        return "parked 20 times";
    }

    // What this thread does meanwhile, so that some scenarios block.

    /** Takes the lock shortly before the scenario's slot and holds it a block into it. */
    private Thread holdTheContendedLockThroughTheStart(long startNanos) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("lock-holder").start(() -> {
            parkUntil(startNanos - LEAD_NANOS);
            synchronized (contendedLock) {
                held.countDown();
                parkUntil(startNanos + TimeUnit.MILLISECONDS.toNanos(BLOCK_MILLIS));
            }
        });
        held.await();
        return holder;
    }

    /** Makes the FIFO now; a writer opens it a block into the scenario's slot. */
    private static Thread writeTheFifoABlockAfterTheStart(Path fifo, long startNanos) throws Exception {
        if (new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor() != 0) {
            throw new IOException("mkfifo " + fifo + " failed");
        }
        return Thread.ofPlatform().name("fifo-writer").start(() -> {
            try {
                parkUntil(startNanos + TimeUnit.MILLISECONDS.toNanos(BLOCK_MILLIS));
                Files.writeString(fifo, "written late");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** parkNanos may return early; a helper's timing must not. */
    private static void parkUntil(long deadlineNanos) {
        for (long left = deadlineNanos - System.nanoTime(); left > 0; left = deadlineNanos - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }
}
