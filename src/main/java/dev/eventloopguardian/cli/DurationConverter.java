package dev.eventloopguardian.cli;

import picocli.CommandLine;

import java.time.Duration;
import java.util.Locale;

/** Reads durations the way people write them on a command line: {@code 250us}, {@code 10ms}, {@code 2s}, {@code 1m}. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
        String value = text.strip().toLowerCase(Locale.ROOT);
        int unit = 0;
        while (unit < value.length() && (Character.isDigit(value.charAt(unit)) || value.charAt(unit) == '.')) {
            unit++;
        }
        if (unit == 0 || unit == value.length()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a duration: write a number and a unit, "
                    + "e.g. 500us, 10ms, 2s or 1m");
        }
        double amount = Double.parseDouble(value.substring(0, unit));
        long nanosPerUnit = switch (value.substring(unit)) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m", "min" -> 60_000_000_000L;
            default -> throw new CommandLine.TypeConversionException("'" + text + "': unknown unit '" + value.substring(unit)
                    + "'; use ns, us, ms, s or m");
        };
        return Duration.ofNanos(Math.round(amount * nanosPerUnit));
    }
}
