package dev.eventloopguardian.watch;

import java.util.regex.Pattern;

/**
 * A pattern for an executable's path or a cgroup's: {@code *} matches any run of characters,
 * slashes included, {@code ?} one character. A pattern without a slash is matched against the
 * path's last part alone: {@code node} selects {@code /usr/bin/node}, {@code *.service} any
 * cgroup of a systemd service.
 */
public record PathGlob(String glob, Pattern regex, boolean whole) {
    public static PathGlob parse(String glob) {
        if (glob.isBlank()) {
            throw new IllegalArgumentException("an empty pattern matches nothing: give a path, a name, or a glob such as '*/node'");
        }
        StringBuilder regex = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> regex.append(".*");
                case '?' -> regex.append('.');
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return new PathGlob(glob, Pattern.compile(regex.toString()), glob.contains("/"));
    }

    public boolean matches(String path) {
        String subject = whole ? path : path.substring(path.lastIndexOf('/') + 1);
        return regex.matcher(subject).matches();
    }

    @Override
    public String toString() {
        return glob;
    }
}
