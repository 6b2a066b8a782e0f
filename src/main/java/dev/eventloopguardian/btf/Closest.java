package dev.eventloopguardian.btf;

import dev.eventloopguardian.text.Suggestions;

import java.util.List;

/** The tail of a "not found" message: names close to what was asked for, else a few that exist. */
final class Closest {
    private Closest() {
    }

    /** "; closest: a, b", "; it has: x, y, ..." when nothing is close, or "" when there are no names. */
    static String describe(String wanted, List<String> candidates, int limit) {
        List<String> distinct = candidates.stream().distinct().toList();
        List<String> close = Suggestions.closest(wanted, distinct, limit);
        if (!close.isEmpty()) {
            return "; closest: " + String.join(", ", close);
        }
        if (distinct.isEmpty()) {
            return "";
        }
        return "; it has: " + String.join(", ", distinct.subList(0, Math.min(limit, distinct.size())))
                + (distinct.size() > limit ? ", ..." : "");
    }
}
