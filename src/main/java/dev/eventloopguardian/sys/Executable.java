package dev.eventloopguardian.sys;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A command resolved the way a shell resolves it: a name with a slash is a path, any other
 * name is looked up in {@code PATH}. Knowing the file before exec lets us refuse what the
 * kernel would silently run unguarded, and report 127 / 126 the way shells do.
 */
public record Executable(String command, Path path, int mode, long ownerUid, long ownerGid) {
    private static final int S_ISUID = 04000;
    private static final int S_ISGID = 02000;

    /** Why a command cannot be run at all. */
    public static final class NotRunnable extends Exception {
        private static final long serialVersionUID = 1L;
        private final boolean found;

        public NotRunnable(String message, boolean found) {
            super(message);
            this.found = found;
        }

        /** False when nothing by that name exists (exit 127), true when it exists but cannot run (126). */
        public boolean found() {
            return found;
        }
    }

    public static Executable resolve(String command, String searchPath) throws NotRunnable {
        if (command.isEmpty()) {
            throw new NotRunnable("empty command name", false);
        }
        if (command.contains("/")) {
            Path path = Path.of(command);
            if (!Files.exists(path)) {
                throw new NotRunnable(command + ": no such file", false);
            }
            return checked(command, path);
        }
        Path firstNonExecutable = null;
        for (String dir : (searchPath == null ? "" : searchPath).split(":", -1)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir).resolve(command);
            if (Files.isRegularFile(candidate)) {
                if (Files.isExecutable(candidate)) {
                    return checked(command, candidate);
                }
                if (firstNonExecutable == null) {
                    firstNonExecutable = candidate;
                }
            }
        }
        if (firstNonExecutable != null) {
            return checked(command, firstNonExecutable);
        }
        throw new NotRunnable(command + ": command not found in PATH", false);
    }

    private static Executable checked(String command, Path path) throws NotRunnable {
        if (Files.isDirectory(path)) {
            throw new NotRunnable(path + ": is a directory", true);
        }
        if (!Files.isExecutable(path)) {
            throw new NotRunnable(path + ": permission denied (not executable)", true);
        }
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode");
            // st_uid and st_gid are unsigned; the JDK hands them over as a signed int.
            long uid = Integer.toUnsignedLong((Integer) Files.getAttribute(path, "unix:uid"));
            long gid = Integer.toUnsignedLong((Integer) Files.getAttribute(path, "unix:gid"));
            return new Executable(command, path, mode, uid, gid);
        } catch (IOException | UnsupportedOperationException e) {
            throw new NotRunnable(path + ": cannot read its attributes: " + e.getMessage(), true);
        }
    }

    public boolean setUid() {
        return (mode & S_ISUID) != 0;
    }

    public boolean setGid() {
        return (mode & S_ISGID) != 0;
    }

    /** Whether the file carries file capabilities ({@code security.capability}). */
    public boolean hasFileCapabilities() {
        return Linux.xattrSize(path.toString(), "security.capability").isPresent();
    }

    /** Whether the calling process may execute the file (access(2) with the real ids). */
    public boolean executableByCaller() {
        return Files.isExecutable(path);
    }

    /** Whether the calling process may read the file (access(2) with the real ids). */
    public boolean readable() {
        return Files.isReadable(path);
    }

    /**
     * The interpreter line of a script ({@code #!/usr/bin/env bash} gives
     * {@code /usr/bin/env bash}), or empty for a binary.
     */
    public Optional<String> interpreterLine() {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] head = in.readNBytes(256);
            if (head.length < 2 || head[0] != '#' || head[1] != '!') {
                return Optional.empty();
            }
            String text = new String(head, 2, head.length - 2, StandardCharsets.UTF_8);
            int end = text.indexOf('\n');
            return Optional.of((end < 0 ? text : text.substring(0, end)).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
