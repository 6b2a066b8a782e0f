package dev.eventloopguardian.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The container a process runs in, as its cgroup path tells: the runtime that made the cgroup
 * and the container's id (the one {@code docker ps --no-trunc}, {@code crictl ps} and
 * {@code podman ps --no-trunc} show).
 *
 * <p>Runtimes name the cgroup of a container after its id. With systemd managing cgroups, as
 * on every current distribution, it is a scope: {@code docker-ID.scope} (Docker),
 * {@code cri-containerd-ID.scope} (containerd under Kubernetes), {@code crio-ID.scope} (CRI-O),
 * {@code libpod-ID.scope} (Podman). With the cgroupfs driver, and on cgroup v1, the id is a
 * directory of its own: {@code /docker/ID}, {@code /kubepods/burstable/podUID/ID}. The conmon
 * scopes of CRI-O and Podman ({@code crio-conmon-ID.scope}) hold the runtime's monitor, not the
 * container, and do not count.
 */
public record Container(String runtime, String id) {
    /** A systemd scope named after a container id, with the runtime that names it so. */
    private static final Pattern SCOPE = Pattern.compile("(docker|cri-containerd|crio|libpod)-([0-9a-f]{12,64})\\.scope");
    /** A directory named with a full id, as the cgroupfs driver makes them. */
    private static final Pattern FULL_ID = Pattern.compile("[0-9a-f]{64}");

    /** The container of process {@code pid}; empty when it runs in none, or is gone. */
    public static Optional<Container> ofProcess(int pid) {
        try {
            return inCgroups(Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * The container that {@code cgroups}, the text of {@code /proc/PID/cgroup}, places a process
     * in: the first line whose path names one, looked at from its innermost directory out, since
     * a container's own cgroups (Podman's {@code .../libpod-ID.scope/container}) nest in its scope.
     */
    public static Optional<Container> inCgroups(String cgroups) {
        for (String line : cgroups.split("\n")) {
            // hierarchy-ID:controllers:path; the path is the rest of the line and may hold a colon
            String[] fields = line.split(":", 3);
            if (fields.length == 3) {
                Optional<Container> container = inPath(fields[2].strip());
                if (container.isPresent()) {
                    return container;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Container> inPath(String path) {
        String[] directories = path.split("/");
        for (int i = directories.length - 1; i >= 0; i--) {
            Matcher scope = SCOPE.matcher(directories[i]);
            if (scope.matches()) {
                return Optional.of(new Container(runtime(scope.group(1)), scope.group(2)));
            }
            if (i > 0 && FULL_ID.matcher(directories[i]).matches()) {
                String parent = directories[i - 1];
                if (parent.equals("docker")) {
                    return Optional.of(new Container("docker", directories[i]));
                }
                if (parent.startsWith("pod") && path.contains("/kubepods")) {
                    // the cgroupfs driver does not say which runtime Kubernetes runs
                    return Optional.of(new Container("kubernetes", directories[i]));
                }
            }
        }
        return Optional.empty();
    }

    private static String runtime(String scopePrefix) {
        return switch (scopePrefix) {
            case "cri-containerd" -> "containerd";
            case "crio" -> "cri-o";
            case "libpod" -> "podman";
            default -> scopePrefix;
        };
    }
}
