package dev.eventloopguardian.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A kernel's major and minor version, e.g. 5.15 from the release {@code 5.15.0-91-generic}.
 * The patch level and the distribution's suffix are left out: upstream features arrive in a
 * major.minor release, and that is what we compare against.
 */
public record KernelVersion(int major, int minor) implements Comparable<KernelVersion> {
    private static final Path OSRELEASE = Path.of("/proc/sys/kernel/osrelease");
    private static final Pattern RELEASE = Pattern.compile("(\\d+)\\.(\\d+)(?:[.\\-+~_].*)?");

    public static KernelVersion of(int major, int minor) {
        return new KernelVersion(major, minor);
    }

    /** The version in a release string as {@code uname -r} prints it, or empty if it has none. */
    public static Optional<KernelVersion> parse(String release) {
        Matcher matcher = RELEASE.matcher(release.strip());
        if (!matcher.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(of(Integer.parseInt(matcher.group(1)), Integer.parseInt(matcher.group(2))));
        } catch (NumberFormatException e) {
            return Optional.empty(); // digits beyond an int: not a release we know how to compare
        }
    }

    /** The running kernel's version (from {@code /proc/sys/kernel/osrelease}), or empty if unreadable. */
    public static Optional<KernelVersion> running() {
        try {
            return parse(Files.readString(OSRELEASE));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public boolean atLeast(KernelVersion other) {
        return compareTo(other) >= 0;
    }

    @Override
    public int compareTo(KernelVersion other) {
        return major != other.major ? Integer.compare(major, other.major) : Integer.compare(minor, other.minor);
    }

    /** {@code 5.15}. */
    @Override
    public String toString() {
        return major + "." + minor;
    }
}
