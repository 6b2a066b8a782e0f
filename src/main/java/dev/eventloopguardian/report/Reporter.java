package dev.eventloopguardian.report;

import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.SleepEnd;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.HotSpotPerfMaps;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.sys.Arch;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * The reading side of every report session, whatever it guards: takes the guard's events from
 * the ring buffer, names their stacks, holds them until their sleep ends, writes them in
 * the chosen format and counts them for the summary printed at the end.
 *
 * <p>It never throws for a destination it cannot write to: a report that goes nowhere must not
 * end the session, which would leave what it watches unwatched. It says once, in the notes,
 * what it could not write and why, goes on counting, and {@link #finish} says whether the
 * report is complete.
 */
public final class Reporter implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(100);
    /** How long records gather after a batch; reports come at most this much later. */
    private static final Duration BATCH = Duration.ofMillis(2);
    /** How long after its sleep began an event waits for its JVM to answer: a stack walk takes a few ms. */
    private static final long JAVA_ANSWER_LIMIT_NANOS = Duration.ofMillis(500).toNanos();

    private final Guard guard;
    private final ReportSettings settings;
    private final Summary summary = new Summary();
    private final ReportOutput output;
    private final EventFormat format;
    private final OpenSleeps sleeps;
    private final RingBuffer events;
    private final HotSpotPerfMaps perfMaps = new HotSpotPerfMaps();
    private boolean failureNoted;
    private long hotSpotOwnSleeps;

    private Reporter(Guard guard, ReportSettings settings, JavaContexts java) throws GuardException {
        this.guard = guard;
        this.settings = settings;
        StackNames names = new StackNames(SyscallTable.of(Arch.current()), KernelSymbols.kallsyms(), perfMaps, this::note);
        names.warmUp();
        this.output = new ReportOutput(settings.events().name(), settings.events().writer());
        this.format = EventFormat.named(settings.format(), output);
        this.sleeps = new OpenSleeps(settings.minDuration(), new OpenSleeps.Output() {
            @Override
            public boolean sleep(NamedEvent named) {
                if (HotSpotOwnSleeps.isHotSpotsOwn(named.userStack())) {
                    hotSpotOwnSleeps++;
                    return false;
                }
                if (!awaitJava(named)) {
                    return false;
                }
                summary.add(named);
                settings.observer().reported(ReportedSleep.of(named));
                format.write(named);
                output.eventWritten();
                return true;
            }

            @Override
            public void woke(NamedEvent named, long nanos) {
                format.woke(named, nanos);
                settings.observer().woke(ReportedSleep.of(named), nanos);
            }
        }, exited -> {
            // Nothing to free: the program keeps a thread's open sleep in its task storage, which
            // the kernel frees with the thread.
        });
        try {
            this.events = guard.events(new Guard.SleepListener() {
                @Override
                public void asleep(BlockingEvent event) {
                    // The JVM first: naming may wait for its perf map, and its Java stack is wanted while the thread blocks.
                    var javaAnswer = java.ask(event);
                    sleeps.add(names.name(event).withJava(javaAnswer));
                }

                @Override
                public void ended(SleepEnd end) {
                    sleeps.ended(end);
                }
            });
        } catch (GuardException | RuntimeException e) {
            format.close();
            throw e;
        }
    }

    /** Starts reading {@code guard}'s events; attach the guard to its threads next. */
    public static Reporter open(Guard guard, ReportSettings settings) throws GuardException {
        return new Reporter(guard, settings, JavaContexts.NONE);
    }

    /** The same, asking {@code java} for the Java side of each event. */
    public static Reporter open(Guard guard, ReportSettings settings, JavaContexts java) throws GuardException {
        return new Reporter(guard, settings, java);
    }

    /**
     * Waits, a bounded time, for the Java side of {@code named}; false when its JVM says it was no
     * blocking call. A JVM that has not answered in time gets its event written without one.
     */
    private static boolean awaitJava(NamedEvent named) {
        long waitedNanos = System.nanoTime() - named.event().monotonicNanos();
        long leftNanos = JAVA_ANSWER_LIMIT_NANOS - Math.max(0, waitedNanos);
        try {
            Optional<JavaContext> java = leftNanos > 0 ? named.javaAnswer().get(leftNanos, TimeUnit.NANOSECONDS)
                    : named.java();
            return java.map(JavaContext::blocking).orElse(true);
        } catch (TimeoutException | ExecutionException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /** Reports events as they come while {@code running} says so, then what is left in the ring buffer. */
    public void reportWhile(BooleanSupplier running) {
        while (running.getAsBoolean()) {
            int records = events.poll(sleeps.waiting() ? OpenSleeps.CHECK_INTERVAL : POLL);
            sleeps.check();
            format.flush();
            noteFailureOnce();
            if (records > 0) {
                // The kernel wakes us for a record only when we had read everything before it: in a
                // storm, each record would cost a wake-up. Letting records gather for a moment makes
                // one wake-up and one write serve many; an idle session still sleeps in poll.
                sleepQuietly(BATCH);
            }
        }
        events.consume();
        sleeps.check();
        sleeps.passOnTheRest();
        format.flush();
        noteFailureOnce();
    }

    private void noteFailureOnce() {
        if (!failureNoted && !output.intact()) {
            failureNoted = true;
            PrintWriter notes = settings.notes();
            notes.println("eventloop-guardian: " + output.failure().orElseThrow() + "; the guard goes on, and the events "
                    + "that could not be written are counted");
            notes.flush();
        }
    }

    private void note(String text) {
        settings.notes().println("eventloop-guardian: " + text);
        settings.notes().flush();
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Prints the summary and the drop count, and writes the folded stacks if asked. Returns
     * whether the report is complete: every event and the folded stacks were written where the
     * settings said (events the kernel dropped in a storm are counted, and do not make it so).
     */
    public boolean finish() throws GuardException {
        PrintWriter notes = settings.notes();
        long dropped = guard.droppedEvents();
        summary.print(notes, dropped);
        if (dropped > 0) {
            notes.println("eventloop-guardian: " + dropped + " blocking sleeps were not reported because the ring buffer "
                    + "was full (the kernel counted them)");
        }
        if (hotSpotOwnSleeps > 0) {
            notes.println("eventloop-guardian: " + hotSpotOwnSleeps + " sleeps were HotSpot's own back-off while it defined "
                    + "classes (SpinYield::yield_or_sleep), not the application's: left out");
        }
        long endsDropped = guard.droppedEnds();
        if (endsDropped > 0) {
            notes.println("eventloop-guardian: " + endsDropped + " sleeps were reported without their length: the ring "
                    + "buffer had no room for their end");
        }
        boolean complete = output.intact();
        if (!complete) {
            notes.println("eventloop-guardian: the report is incomplete: " + output.lostEvents() + " of " + summary.events()
                    + " events were not written (" + output.failure().orElseThrow() + ")");
        }
        if (settings.folded().isPresent()) {
            ReportSettings.Destination destination = settings.folded().get();
            ReportOutput folded = new ReportOutput(destination.name(), destination.writer());
            summary.writeFolded(folded);
            folded.flush();
            if (!folded.intact()) {
                complete = false;
                notes.println("eventloop-guardian: the folded stacks were not written (" + folded.failure().orElseThrow() + ")");
            }
        }
        notes.flush();
        return complete;
    }

    @Override
    public void close() {
        try (format; sleeps; events; perfMaps) {
            // closed in reverse order: stop asking JVMs for perf maps, stop reading, drop what is held, flush the output
        }
    }
}
