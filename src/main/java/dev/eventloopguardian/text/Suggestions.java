package dev.eventloopguardian.text;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * "Did you mean" for names a user typed: syscalls in a policy, signal names, struct members.
 * Only runs on the error path, so it favours predictable answers over speed.
 */
public final class Suggestions {
    private Suggestions() {
    }

    private record Match(String name, int tier, int key) {
    }

    private static final Comparator<Match> ORDER =
            Comparator.comparingInt(Match::tier).thenComparingInt(Match::key).thenComparing(Match::name);

    /**
     * The candidates closest to {@code query}, best first, at most {@code max}. The caller
     * normalises case and strips prefixes. Underscores are ignored when comparing, so that
     * {@code epollwait} finds {@code epoll_wait}. The tiers, each ordered by its key then by name:
     * <ol>
     *   <li>equal but for underscores;</li>
     *   <li>one edit away (a typo: {@code futx});</li>
     *   <li>one name contains the other ({@code sleep}: {@code nanosleep}, {@code clock_nanosleep};
     *       {@code TERMINATE}: {@code TERM}), nearest length first;</li>
     *   <li>within a few edits, about one in three characters;</li>
     *   <li>sharing a long start ({@code io_uring_wait}: the {@code io_uring_} calls), longest first.</li>
     * </ol>
     */
    public static List<String> closest(String query, Iterable<String> candidates, int max) {
        String q = withoutUnderscores(query);
        if (q.isEmpty() || max <= 0) {
            return List.of();
        }
        int threshold = Math.min(3, Math.max(1, q.length() / 3));
        List<Match> matches = new ArrayList<>();
        for (String candidate : candidates) {
            String c = withoutUnderscores(candidate);
            int distance = distance(q, c, threshold);
            if (distance == 0) {
                matches.add(new Match(candidate, 0, 0));
            } else if (distance == 1) {
                matches.add(new Match(candidate, 1, 0));
            } else if (contains(c, q) || contains(q, c)) {
                matches.add(new Match(candidate, 2, Math.abs(c.length() - q.length())));
            } else if (distance <= threshold) {
                matches.add(new Match(candidate, 3, distance));
            } else {
                int shared = sharedStart(q, c);
                if (shared >= 4 && shared * 2 >= q.length()) {
                    matches.add(new Match(candidate, 4, -shared));
                }
            }
        }
        return matches.stream().sorted(ORDER).limit(max).map(Match::name).toList();
    }

    /** Whether {@code outer} contains {@code inner}, ignoring fragments too short to mean anything. */
    private static boolean contains(String outer, String inner) {
        return inner.length() >= 3 && outer.contains(inner);
    }

    private static int sharedStart(String a, String b) {
        int n = 0;
        while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
            n++;
        }
        return n;
    }

    private static String withoutUnderscores(String s) {
        return s.indexOf('_') < 0 ? s : s.replace("_", "");
    }

    /**
     * Edit distance where swapping two neighbours counts as one edit, as typos do ({@code tsak}),
     * or {@code limit + 1} as soon as it must exceed {@code limit}.
     */
    static int distance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) > limit) {
            return limit + 1;
        }
        int[] beforePrevious = new int[b.length() + 1];
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            int rowMin = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                int best = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    best = Math.min(best, beforePrevious[j - 2] + 1);
                }
                current[j] = best;
                rowMin = Math.min(rowMin, best);
            }
            if (rowMin > limit) {
                return limit + 1;
            }
            int[] recycled = beforePrevious;
            beforePrevious = previous;
            previous = current;
            current = recycled;
        }
        return Math.min(previous[b.length()], limit + 1);
    }
}
