package dev.eventloopguardian.jvm;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The jar the Java agent is in: the product jar, which the command line runs from too. */
public final class AgentJar {
    private AgentJar() {
    }

    /** Its absolute path; empty when the classes come from a directory (a build's target/classes), not a jar. */
    public static Optional<Path> location() {
        Path location = locationOf(Agent.class);
        return location != null && Files.isRegularFile(location) ? Optional.of(location) : Optional.empty();
    }

    /** Where the agent's classes come from, jar or directory, for a message that says so. */
    public static String describeLocation() {
        return String.valueOf(locationOf(Agent.class));
    }

    /**
     * The jar or directory {@code type} was loaded from: its code source, or, where the JDK gives
     * none (a class mapped from an AOT cache may have none), the {@code jar:} URL of its class file.
     */
    private static Path locationOf(Class<?> type) {
        try {
            java.security.CodeSource source = type.getProtectionDomain().getCodeSource();
            if (source != null && source.getLocation() != null) {
                return Path.of(source.getLocation().toURI()).toAbsolutePath();
            }
            java.net.URL classFile = type.getResource(type.getSimpleName() + ".class");
            if (classFile != null && classFile.getProtocol().equals("jar")) {
                String file = classFile.getPath(); // file:/path/to.jar!/dev/eventloopguardian/jvm/Agent.class
                return Path.of(new java.net.URI(file.substring(0, file.indexOf("!/")))).toAbsolutePath();
            }
            return null;
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot tell where " + type.getName() + " was loaded from", e);
        }
    }
}
