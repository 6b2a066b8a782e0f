package dev.eventloopguardian.btf;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** Names to suggest when a lookup fails: the fewest edits away, with containment counting as close. */
final class Closest {
    private Closest() {
    }

    /** "; closest: a, b, c", or "" when there is nothing to suggest. */
    static String describe(String wanted, List<String> candidates, int limit) {
        String key = wanted.toLowerCase(Locale.ROOT);
        List<String> best = candidates.stream().distinct()
                .sorted(Comparator.comparingInt(name -> distance(key, name.toLowerCase(Locale.ROOT))))
                .limit(limit)
                .toList();
        return best.isEmpty() ? "" : "; closest: " + String.join(", ", best);
    }

    static int distance(String a, String b) {
        String shorter = a.length() <= b.length() ? a : b;
        String longer = shorter == a ? b : a;
        if (shorter.length() >= 3 && longer.contains(shorter)) {
            // "state" for "__state" is one idea away, however many characters differ; but "ax"
            // inside "orig_rax" is a coincidence, hence the minimum length.
            return Math.min(1, longer.length() - shorter.length());
        }
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
