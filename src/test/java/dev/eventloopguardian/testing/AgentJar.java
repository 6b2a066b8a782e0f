package dev.eventloopguardian.testing;

import com.fasterxml.jackson.core.JsonFactory;
import dev.eventloopguardian.agent.AgentBootstrap;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The agent as a jar for tests that run before the product jar is packaged (surefire): this
 * build's classes and jackson-core's in one jar whose manifest names the agent's entry class, as
 * the product jar's does.
 */
public final class AgentJar {
    private AgentJar() {
    }

    /**
     * Writes the jar to {@code jar}, a new file. Its file name names the agent's module, as the
     * product jar's does ({@code eventloop-guardian.jar}: {@code eventloop.guardian}).
     */
    public static Path write(Path jar) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Premain-Class", AgentBootstrap.class.getName());
        manifest.getMainAttributes().putValue("Agent-Class", AgentBootstrap.class.getName());
        Set<String> written = new HashSet<>();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            copyDirectory(codeSource(AgentBootstrap.class), out, written);
            copyClassesOfJar(codeSource(JsonFactory.class), out, written);
        }
        return jar;
    }

    private static void copyDirectory(Path classes, JarOutputStream out, Set<String> written) throws IOException {
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                try (InputStream in = Files.newInputStream(file)) {
                    add(classes.relativize(file).toString(), in, out, written);
                }
            }
        }
    }

    private static void copyClassesOfJar(Path source, JarOutputStream out, Set<String> written) throws IOException {
        try (JarInputStream in = new JarInputStream(Files.newInputStream(source))) {
            for (JarEntry entry; (entry = in.getNextJarEntry()) != null; ) {
                if (!entry.isDirectory() && entry.getName().endsWith(".class") && !entry.getName().contains("module-info")) {
                    add(entry.getName(), in, out, written);
                }
            }
        }
    }

    private static void add(String name, InputStream content, JarOutputStream out, Set<String> written) throws IOException {
        if (name.equals(JarFile.MANIFEST_NAME) || !written.add(name)) {
            return;
        }
        out.putNextEntry(new JarEntry(name));
        content.transferTo(out);
        out.closeEntry();
    }

    private static Path codeSource(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}
