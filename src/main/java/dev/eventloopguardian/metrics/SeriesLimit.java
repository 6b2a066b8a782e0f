package dev.eventloopguardian.metrics;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps a labelled metric to a bounded number of series. Label sets are admitted as they come
 * until {@code limit} distinct ones have been; after that only those are, and a caller counts
 * anything else in a series whose every label is {@link #OTHER}. Each series costs the scraper
 * (Prometheus keeps every one it has seen), and a pid label alone would grow without end on a
 * host that restarts its services. Used from one thread.
 */
final class SeriesLimit {
    /** The value of every label of the series that takes what did not fit. */
    static final String OTHER = "other";

    private final int limit;
    private final Set<List<String>> admitted = new HashSet<>();

    SeriesLimit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("a series limit is at least 1, not " + limit);
        }
        this.limit = limit;
    }

    /** Whether {@code labels} have their own series: they had one already, or there is room for it. */
    boolean admits(List<String> labels) {
        if (admitted.contains(labels)) {
            return true;
        }
        if (admitted.size() >= limit) {
            return false;
        }
        admitted.add(List.copyOf(labels));
        return true;
    }

    /** The label values of the series that takes what did not fit: {@code count} times {@link #OTHER}. */
    static String[] other(int count) {
        String[] values = new String[count];
        java.util.Arrays.fill(values, OTHER);
        return values;
    }
}
