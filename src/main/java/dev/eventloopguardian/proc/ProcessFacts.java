package dev.eventloopguardian.proc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code /proc/PID} says of a process, to select it by and to name it in a report: its name
 * ({@code comm} of its main thread), executable, command line and cgroup (the unified
 * hierarchy's path), and what that path tells: its container, its Kubernetes pod, its systemd unit.
 */
public record ProcessFacts(int pid, String name, String executable, String commandLine, String cgroup,
                           Optional<Container> container, Optional<String> podUid, Optional<String> systemdUnit) {
    /** {@code kubepods-burstable-pod<uid with _>.slice} (systemd driver) or {@code pod<uid>} (cgroupfs driver). */
    private static final Pattern POD = Pattern.compile(
            "pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\\.slice)?");
    /** Command lines are cut here: a JVM's class path would otherwise fill every event. */
    static final int COMMAND_LINE_CHARS = 512;

    /**
     * The facts of process {@code pid}; empty when it is gone, or is a kernel thread (which has
     * no executable), or is not ours to read.
     */
    public static Optional<ProcessFacts> read(int pid) {
        Path proc = Path.of("/proc", Integer.toString(pid));
        try {
            String executable = Files.readSymbolicLink(proc.resolve("exe")).toString();
            String name = Files.readString(proc.resolve("comm")).strip();
            String commandLine = commandLine(Files.readAllBytes(proc.resolve("cmdline")));
            String cgroups = Files.readString(proc.resolve("cgroup"));
            return Optional.of(of(pid, name, executable, commandLine, cgroups));
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** The facts from the texts of {@code /proc/PID/{comm,exe,cmdline,cgroup}}. */
    public static ProcessFacts of(int pid, String name, String executable, String commandLine, String cgroups) {
        String cgroup = unifiedPath(cgroups);
        return new ProcessFacts(pid, name, executable, commandLine, cgroup, Container.inCgroups(cgroups), podUid(cgroup),
                systemdUnit(cgroup));
    }

    /** {@code cmdline}'s NUL-separated arguments joined by spaces, cut at {@link #COMMAND_LINE_CHARS}. */
    static String commandLine(byte[] cmdline) {
        int end = cmdline.length;
        while (end > 0 && cmdline[end - 1] == 0) {
            end--;
        }
        String joined = new String(cmdline, 0, end, StandardCharsets.UTF_8).replace('\0', ' ');
        return joined.length() <= COMMAND_LINE_CHARS ? joined : joined.substring(0, COMMAND_LINE_CHARS - 3) + "...";
    }

    /** The path of the cgroup v2 line ({@code 0::/path}), else the first line's (cgroup v1 only). */
    static String unifiedPath(String cgroups) {
        String first = null;
        for (String line : cgroups.split("\n")) {
            String[] fields = line.split(":", 3);
            if (fields.length == 3) {
                if (fields[0].equals("0") && fields[1].isEmpty()) {
                    return fields[2].strip();
                }
                if (first == null) {
                    first = fields[2].strip();
                }
            }
        }
        return first == null ? "/" : first;
    }

    /** The Kubernetes pod's uid, as {@code kubectl get pod -o jsonpath='{.metadata.uid}'} prints it. */
    static Optional<String> podUid(String cgroup) {
        if (!cgroup.contains("kubepods")) {
            return Optional.empty();
        }
        for (String directory : cgroup.split("/")) {
            int at = directory.lastIndexOf("-pod");
            Matcher pod = POD.matcher(at >= 0 ? directory.substring(at + 1) : directory);
            if (pod.matches()) {
                return Optional.of(pod.group(1).replace('_', '-'));
            }
        }
        return Optional.empty();
    }

    /**
     * The systemd unit the process runs in: the innermost {@code .service} of its cgroup path (a
     * user's service under {@code user@UID.service} included), else its innermost {@code .scope}
     * that is no container's, such as a login session's.
     */
    static Optional<String> systemdUnit(String cgroup) {
        String[] directories = cgroup.split("/");
        String scope = null;
        for (int i = directories.length - 1; i >= 0; i--) {
            String directory = directories[i];
            if (directory.endsWith(".service") && !directory.matches("user@\\d+\\.service")) {
                return Optional.of(directory);
            }
            if (scope == null && directory.endsWith(".scope") && Container.inCgroups("0::/" + directory).isEmpty()) {
                scope = directory;
            }
        }
        return Optional.ofNullable(scope);
    }
}
