package dev.eventloopguardian.cli;

import dev.eventloopguardian.report.ReportSettings;
import picocli.CommandLine;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads durations the way people write them on a command line: {@code 250us}, {@code 10ms},
 * {@code 1.5s}, {@code 2m}, {@code 1h}. Only plain decimals: Java's own number parsing would also
 * take exponents, {@code NaN} and {@code Infinity}, and a number too large for a long would
 * wrap around into a filter that lets nothing, or everything, through.
 */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern DURATION = Pattern.compile("(\\d*\\.?\\d+)([a-zµ]+)");
    private static final Duration LONGEST = ReportSettings.LONGEST_MIN_DURATION;
    private static final String FORM = "write a number and a unit (ns, us, ms, s, m or h), e.g. 500us, 10ms, 2s or 1m, "
            + "from 0 to " + LONGEST.toHours() + "h";

    @Override
    public Duration convert(String text) {
        Matcher matcher = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a duration: " + FORM);
        }
        long nanosPerUnit = switch (matcher.group(2)) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m", "min" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            default -> throw new CommandLine.TypeConversionException("'" + text + "': unknown unit '" + matcher.group(2)
                    + "'; " + FORM);
        };
        // Exact decimal arithmetic: any number of digits is compared with the limit before it becomes a long.
        BigDecimal nanos = new BigDecimal(matcher.group(1)).multiply(BigDecimal.valueOf(nanosPerUnit));
        if (nanos.compareTo(BigDecimal.valueOf(LONGEST.toNanos())) > 0) {
            throw new CommandLine.TypeConversionException("'" + text + "' is more than a day: " + FORM);
        }
        return Duration.ofNanos(nanos.setScale(0, RoundingMode.HALF_UP).longValueExact());
    }
}
