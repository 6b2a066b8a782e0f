package dev.eventloopguardian.jvm;

import dev.eventloopguardian.text.Suggestions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What {@code -javaagent:eventloop-guardian.jar=OPTIONS} asks for:
 * {@code threads=REGEX[,format=json|text][,output=FILE][,action=report|abort][,jfr=true][,uninterruptible=true][,required=true]}.
 * Parsed strictly, since a guard that silently guards less than it was told is worse than none:
 * an unknown key, a repeated key or a bad value is an {@link IllegalArgumentException} that says
 * which and what is allowed. A comma inside a value (a regex's {@code {1,3}}) is written {@code \,}.
 *
 * @param threads  the Java thread names to guard, matched in full
 * @param format   how each blocking call is written
 * @param output   the file each call is appended to; empty for stderr
 * @param abort    whether a blocking call then aborts the JVM ({@code action=abort})
 * @param jfr      whether each call is also a JFR event
 * @param uninterruptible whether uninterruptible sleeps inside syscalls count too (disk reads), as the command
 *                 line's {@code --include-uninterruptible}
 * @param required whether an agent that cannot guard stops the JVM instead of letting it run unguarded
 */
record AgentOptions(Pattern threads, Format format, Optional<Path> output, boolean abort, boolean jfr, boolean uninterruptible,
                    boolean required) {
    static final String SYNTAX = "threads=REGEX[,format=json|text][,output=FILE][,action=report|abort][,jfr=true]"
            + "[,uninterruptible=true][,required=true]";

    enum Format { TEXT, JSON }

    private static final List<String> KEYS = List.of("threads", "format", "output", "action", "jfr", "uninterruptible", "required");

    static AgentOptions parse(String arguments) {
        Map<String, String> values = keyValues(arguments == null ? "" : arguments);
        String threads = values.get("threads");
        if (threads == null || threads.isEmpty()) {
            throw new IllegalArgumentException("threads=REGEX is required: it names the event loops to guard");
        }
        Pattern pattern;
        try {
            pattern = Pattern.compile(threads);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("threads=" + threads + " is not a regular expression: " + e.getDescription());
        }
        String output = values.get("output");
        if (output != null && output.isEmpty()) {
            throw new IllegalArgumentException("output= needs a FILE; leave it out to write to stderr");
        }
        return new AgentOptions(pattern,
                Format.valueOf(oneOf(values, "format", "text", "text", "json").toUpperCase(Locale.ROOT)),
                Optional.ofNullable(output).map(Path::of),
                oneOf(values, "action", "report", "report", "abort").equals("abort"),
                bool(values, "jfr"),
                bool(values, "uninterruptible"),
                bool(values, "required"));
    }

    /**
     * Whether {@code arguments} ask for {@code required=true}, even when they cannot be parsed:
     * the user who wrote it wants a JVM that cannot be guarded as asked not to start. A
     * {@code required} with a value other than true or false counts as required, for the same reason.
     */
    static boolean asksRequired(String arguments) {
        if (arguments == null) {
            return false;
        }
        return splitOnCommas(arguments).stream()
                .anyMatch(option -> option.startsWith("required=") && !option.equals("required=false"));
    }

    private static Map<String, String> keyValues(String arguments) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String option : splitOnCommas(arguments)) {
            int equals = option.indexOf('=');
            if (equals < 0) {
                throw new IllegalArgumentException("'" + option + "' is not KEY=VALUE (options: " + SYNTAX
                        + "; a comma inside a value is written \\,)");
            }
            String key = option.substring(0, equals);
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown option '" + key + "'"
                        + Suggestions.closest(key, KEYS, 1).stream().map(s -> " (did you mean '" + s + "'?)")
                        .findFirst().orElse("") + "; options: " + SYNTAX);
            }
            if (values.put(key, option.substring(equals + 1)) != null) {
                throw new IllegalArgumentException("option '" + key + "' is given twice");
            }
        }
        return values;
    }

    /** The options between unescaped commas, with {@code \,} turned into a comma. */
    private static List<String> splitOnCommas(String arguments) {
        List<String> options = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < arguments.length(); i++) {
            char c = arguments.charAt(i);
            if (c == '\\' && i + 1 < arguments.length() && arguments.charAt(i + 1) == ',') {
                current.append(',');
                i++;
            } else if (c == ',') {
                options.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        options.add(current.toString());
        return options.stream().filter(option -> !option.isEmpty()).toList();
    }

    /** The value of {@code key}, {@code absent} when it is not given, which must be one of {@code allowed}. */
    private static String oneOf(Map<String, String> values, String key, String absent, String... allowed) {
        String value = values.getOrDefault(key, absent);
        if (!List.of(allowed).contains(value)) {
            throw new IllegalArgumentException(key + "=" + value + " is not one of " + String.join(", ", allowed));
        }
        return value;
    }

    private static boolean bool(Map<String, String> values, String key) {
        return oneOf(values, key, "false", "true", "false").equals("true");
    }
}
