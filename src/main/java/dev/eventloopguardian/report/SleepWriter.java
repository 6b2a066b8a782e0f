package dev.eventloopguardian.report;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What becomes of a named sleep once {@link OpenSleeps} lets it out: left out when it is
 * HotSpot's own back-off or its JVM says it was no blocking call; else counted in the summary and
 * written in the report's format, and its observer (metrics) told.
 */
final class SleepWriter implements OpenSleeps.Output {
    /** How long after its sleep began an event waits for its JVM to answer: a stack walk takes a few ms. */
    private static final long JAVA_ANSWER_LIMIT_NANOS = Duration.ofMillis(500).toNanos();

    private final Summary summary;
    private final EventFormat format;
    private final ReportOutput output;
    private final SessionObserver observer;
    /** Whether anyone follows: without --metrics, a storm's events build no record for no one. */
    private final boolean observed;
    private long hotSpotOwnSleeps;

    SleepWriter(Summary summary, EventFormat format, ReportOutput output, SessionObserver observer) {
        this.summary = summary;
        this.format = format;
        this.output = output;
        this.observer = observer;
        this.observed = observer != SessionObserver.NONE;
    }

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
        if (observed) {
            observer.reported(ReportedSleep.of(named));
        }
        format.write(named);
        output.eventWritten();
        return true;
    }

    @Override
    public void woke(NamedEvent named, long nanos) {
        format.woke(named, nanos);
        if (observed) {
            observer.woke(ReportedSleep.of(named), nanos);
        }
    }

    /** Sleeps left out as HotSpot's own back-off while it defined classes. */
    long hotSpotOwnSleeps() {
        return hotSpotOwnSleeps;
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
}
