package dev.eventloopguardian.guard;

import dev.eventloopguardian.text.Suggestions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A Linux signal, the guard's action. Numbers are those of x86_64 and arm64 (the same on both);
 * real-time signals are numbered as user space sees them, from SIGRTMIN = 34, because glibc
 * keeps 32 and 33 for its threads.
 */
public record Signal(int number) {
    private static final int MAX = 64;
    private static final int RTMIN = 34;

    public static final Signal SIGABRT = new Signal(6);

    private static final String[] NAMES = {
        null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
        "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM",
        "PROF", "WINCH", "IO", "PWR", "SYS",
    };

    /** Other names signal(7) gives the same signals. */
    private static final Map<String, Integer> ALIASES = Map.of("IOT", 6, "POLL", 29, "CLD", 17);

    /** Default action "core" in signal(7): the ones that leave a core dump to look at. */
    private static final long CORE_DUMPING = bits(3, 4, 5, 6, 7, 8, 11, 24, 25, 31);

    private static final String FORMS = "a name (ABRT, SIGABRT, sigabrt), a number 1-" + MAX
            + ", or a real-time signal (RTMIN, SIGRTMIN+2, RTMAX-1)";

    public Signal {
        if (number < 1 || number > MAX) {
            throw new IllegalArgumentException("signal number " + number + " is out of range: Linux signals are 1-" + MAX);
        }
    }

    /** Parses a signal name or number, with or without "SIG", in any case. */
    public static Signal parse(String text) {
        String s = text.strip().toUpperCase(Locale.ROOT);
        String bare = s.startsWith("SIG") ? s.substring(3) : s;
        if (isDigits(bare) || bare.startsWith("-") && isDigits(bare.substring(1))) {
            int n = bare.startsWith("-") ? -1 : smallNumber(bare);
            if (n < 1 || n > MAX) {
                throw new IllegalArgumentException("signal number '" + text.strip() + "' is out of range: Linux signals are 1-"
                        + MAX + ". Use " + FORMS + ".");
            }
            return new Signal(n);
        }
        if (bare.startsWith("RTMIN") || bare.startsWith("RTMAX")) {
            return realTime(bare, text.strip());
        }
        for (int n = 1; n < NAMES.length; n++) {
            if (NAMES[n].equals(bare)) {
                return new Signal(n);
            }
        }
        Integer alias = ALIASES.get(bare);
        if (alias != null) {
            return new Signal(alias);
        }
        throw unknown(text.strip(), bare);
    }

    /** The usual name: {@code SIGABRT}, {@code SIGRTMIN+2}; {@code SIG32} and {@code SIG33}, which have none. */
    public String name() {
        if (number < NAMES.length) {
            return "SIG" + NAMES[number];
        }
        if (number < RTMIN) {
            return "SIG" + number;
        }
        return number == RTMIN ? "SIGRTMIN" : number == MAX ? "SIGRTMAX" : "SIGRTMIN+" + (number - RTMIN);
    }

    /** Whether the signal's default action dumps core, as SIGABRT does. */
    public boolean dumpsCore() {
        return number < Long.SIZE && (CORE_DUMPING & (1L << number)) != 0;
    }

    @Override
    public String toString() {
        return name();
    }

    private static Signal realTime(String bare, String text) {
        boolean fromMin = bare.startsWith("RTMIN");
        String rest = bare.substring(5);
        int base = fromMin ? RTMIN : MAX;
        if (rest.isEmpty()) {
            return new Signal(base);
        }
        char sign = rest.charAt(0);
        String offset = rest.substring(1);
        if (sign != (fromMin ? '+' : '-') || !isDigits(offset)) {
            throw new IllegalArgumentException("bad real-time signal '" + text + "': use RTMIN+n or RTMAX-n, n from 0 to "
                    + (MAX - RTMIN));
        }
        int n = smallNumber(offset);
        if (n < 0 || n > MAX - RTMIN) {
            throw new IllegalArgumentException("real-time signal '" + text + "' is out of range: SIGRTMIN+" + (MAX - RTMIN)
                    + " = SIGRTMAX is the last");
        }
        return new Signal(fromMin ? base + n : base - n);
    }

    /** The value of a digit string, or -1 if it has more than three significant digits. */
    private static int smallNumber(String digits) {
        int i = 0;
        while (i < digits.length() - 1 && digits.charAt(i) == '0') {
            i++;
        }
        // Too long to be a signal: report it as out of range rather than overflow.
        return digits.length() - i > 3 ? -1 : Integer.parseInt(digits, i, digits.length(), 10);
    }

    private static IllegalArgumentException unknown(String text, String bare) {
        List<String> names = new ArrayList<>(Arrays.asList(NAMES).subList(1, NAMES.length));
        names.addAll(ALIASES.keySet());
        names.add("RTMIN");
        names.add("RTMAX");
        List<String> closest = Suggestions.closest(bare, names, 1);
        return new IllegalArgumentException("unknown signal '" + text + "'"
                + (closest.isEmpty() ? "." : "; did you mean SIG" + closest.getFirst() + "?") + " Use " + FORMS + ".");
    }

    private static boolean isDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static long bits(int... numbers) {
        long mask = 0;
        for (int n : numbers) {
            mask |= 1L << n;
        }
        return mask;
    }
}
