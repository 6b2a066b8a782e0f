package dev.eventloopguardian.report;

import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.ReportingGuard;
import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.SleepEnd;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.symbols.HotSpotPerfMaps;
import dev.eventloopguardian.symbols.KernelSymbols;
import dev.eventloopguardian.sys.Arch;

import java.io.PrintWriter;
import java.io.Writer;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

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

    private final ReportingGuard guard;
    private final ReportSettings settings;
    private final Summary summary = new Summary();
    private final ReportOutput output;
    private final EventFormat format;
    private final OpenSleeps sleeps;
    private final RingBuffer events;
    private final HotSpotPerfMaps perfMaps = new HotSpotPerfMaps();
    private final SleepWriter writer;
    /** Null without --html: a session that does not ask for the page loads none of its classes. */
    private final HtmlReport html;
    private boolean failureNoted;

    private Reporter(ReportingGuard guard, ReportSettings settings, JavaContexts java) throws GuardException {
        this.guard = guard;
        this.settings = settings;
        KernelSymbols kernel = KernelSymbols.kallsyms();
        StackNames names = new StackNames(SyscallTable.of(Arch.current()), kernel, perfMaps, this::note);
        names.warmUp();
        ReportRehearsal.startForSession(kernel, settings);
        this.output = new ReportOutput(settings.events().name(), settings.events().writer());
        this.format = EventFormat.named(settings.format(), output);
        this.writer = new SleepWriter(summary, format, output, settings.observer());
        this.html = settings.html().isPresent() ? new HtmlReport() : null;
        this.sleeps = new OpenSleeps(settings.minDuration(), html == null ? writer : html.after(writer), exited -> {
            // Nothing to free: the program keeps a thread's open sleep in its task storage, which
            // the kernel frees with the thread.
        });
        try {
            this.events = guard.events(new Guard.SleepListener() {
                @Override
                public void asleep(BlockingEvent event) {
                    // The JVM first: naming may wait for its perf map, and its Java stack is wanted while the thread blocks.
                    var javaAnswer = java.ask(event);
                    sleeps.add(names.name(event).withJava(javaAnswer).attributed(settings.attribution().of(event.pid(), event.thread(), event.stateLetter() == 'D')));
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
    public static Reporter open(ReportingGuard guard, ReportSettings settings) throws GuardException {
        return new Reporter(guard, settings, JavaContexts.NONE);
    }

    /** The same, asking {@code java} for the Java side of each event. */
    public static Reporter open(ReportingGuard guard, ReportSettings settings, JavaContexts java) throws GuardException {
        return new Reporter(guard, settings, java);
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
     * Prints the summary and the drop count, and writes the folded stacks and the HTML report if
     * asked. Returns whether the report is complete: every event, the folded stacks and the HTML
     * report were written where the settings said (events the kernel dropped in a storm are
     * counted, and do not make it so).
     */
    public boolean finish() throws GuardException {
        PrintWriter notes = settings.notes();
        long dropped = guard.droppedEvents();
        summary.print(notes, dropped);
        if (dropped > 0) {
            notes.println("eventloop-guardian: " + dropped + " blocking sleeps were not reported because the ring buffer "
                    + "was full (the kernel counted them)");
        }
        long hotSpotOwnSleeps = writer.hotSpotOwnSleeps();
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
        complete &= writeAtEnd(settings.folded(), "the folded stacks were not written", summary::writeFolded);
        if (html != null) {
            complete &= writeAtEnd(settings.html(), "the HTML report was not written", page -> html.write(page, dropped));
        }
        notes.flush();
        return complete;
    }

    /** Writes a file made at the end, if asked for; false, with a note that says why, when it could not be written. */
    private boolean writeAtEnd(Optional<ReportSettings.Destination> destination, String notWritten, Consumer<Writer> content) {
        if (destination.isEmpty()) {
            return true;
        }
        ReportOutput out = new ReportOutput(destination.get().name(), destination.get().writer());
        content.accept(out);
        out.flush();
        if (!out.intact()) {
            settings.notes().println("eventloop-guardian: " + notWritten + " (" + out.failure().orElseThrow() + ")");
        }
        return out.intact();
    }

    @Override
    public void close() {
        try (format; sleeps; events; perfMaps) {
            // closed in reverse order: stop asking JVMs for perf maps, stop reading, drop what is held, flush the output
        }
    }
}
