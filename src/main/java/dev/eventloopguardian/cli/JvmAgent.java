package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.JavaWaitStates;
import dev.eventloopguardian.jvm.AgentJar;
import dev.eventloopguardian.jvm.JvmLinks;
import dev.eventloopguardian.report.JavaContexts;
import dev.eventloopguardian.symbols.HotSpotPerfMaps;
import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.text.IoReason;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

/**
 * The Java agent in the JVMs a session guards: loaded into them (through
 * {@code JAVA_TOOL_OPTIONS} for COMMAND, the Attach API for {@code attach}) and linked back to
 * us, so that their Java-level waits are told apart and their events carry Java stacks; for the
 * guard that execs COMMAND, handed the guard's map of JVM threads instead ({@code --jvm-agent}).
 * Off with {@code --no-jvm-agent}; where it cannot be loaded, JVMs are guarded as any process
 * is, and the session says why once.
 *
 * @param states       how the guard numbers HotSpot's wait states; empty when the agent is off
 * @param threadGlobs  the session's {@code --threads}, which the agents match their threads against
 * @param quiet        whether notes of JVMs linking are left out
 */
record JvmAgent(Optional<JavaWaitStates> states, List<String> threadGlobs, boolean quiet) {
    private static final String JAVA_TOOL_OPTIONS = "JAVA_TOOL_OPTIONS";

    static JvmAgent off() {
        return new JvmAgent(Optional.empty(), List.of(), true);
    }

    /** The agent for a session that uses it, with HotSpot's wait states, which the guard program is loaded with. */
    static JvmAgent on(List<String> threadGlobs, boolean quiet) {
        return new JvmAgent(Optional.of(JvmLinks.HOTSPOT_WAIT_STATES), threadGlobs, quiet);
    }

    /** Where a report asks for its events' Java side: the linked JVMs, or nobody. */
    static JavaContexts javaContexts(Optional<JvmLinks> links) {
        return links.<JavaContexts>map(linked -> linked).orElse(JavaContexts.NONE);
    }

    /** Listens for the agents of the processes {@code admits} accepts; empty when the agent is off or cannot be. */
    Optional<JvmLinks> listen(Guard guard, IntPredicate admits, PrintWriter notes) {
        if (states.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JvmLinks.listen(guard, states.get(), threadGlobs, admits, note -> {
                if (!quiet || note.startsWith("refused") || note.contains("broke")) {
                    notes.println("eventloop-guardian: " + note);
                    notes.flush();
                }
            }));
        } catch (IOException e) {
            notes.println("eventloop-guardian: note: JVMs are guarded without the Java agent: cannot listen for it ("
                    + IoReason.of(e) + ")");
            notes.flush();
            return Optional.empty();
        }
    }

    /**
     * The environment that makes every JVM COMMAND starts load the agent, linked to
     * {@code links}: {@code JAVA_TOOL_OPTIONS} with the agent added to what {@code environment}
     * holds. Empty, with a note, when the agent's jar cannot be loaded by COMMAND's user.
     */
    Map<String, String> environmentFor(JvmLinks links, Map<String, String> environment, Optional<Linux.Account> runAs,
                                      PrintWriter notes) {
        return environmentWith(links.agentOptions(), environment.get(JAVA_TOOL_OPTIONS), runAs, notes);
    }

    /**
     * The same for a COMMAND that is exec'd, guard and no report: its JVMs register their own
     * threads in the guard's map of JVM threads, whose descriptor {@code mapFd} they inherit.
     */
    Map<String, String> environmentForExec(int mapFd, Optional<Linux.Account> runAs, PrintWriter notes) {
        String options = "guard-map=" + mapFd + threadGlobs.stream().map(glob -> "," + glob).collect(Collectors.joining());
        return environmentWith(options, System.getenv(JAVA_TOOL_OPTIONS), runAs, notes);
    }

    private Map<String, String> environmentWith(String agentOptions, String existing, Optional<Linux.Account> runAs,
                                                PrintWriter notes) {
        Optional<Path> jar = AgentJar.location();
        if (jar.isEmpty()) {
            // Run from a build's classes, as the tests and a developer's IDE do: no jar to load, and no
            // note either, which would be printed for every COMMAND, JVM or not.
            return Map.of();
        }
        String option = "-javaagent:" + jar.get() + "=" + agentOptions;
        Optional<String> problem = runAs.isPresent() && !readableAs(jar.get(), runAs.get())
                ? Optional.of(runAs.get().name() + " cannot read " + jar.get() + ", and a JVM that cannot read its agent does not start")
                : option.chars().anyMatch(c -> Character.isWhitespace(c) || c == '"' || c == '\'')
                ? Optional.of("JAVA_TOOL_OPTIONS would split " + option + " at a space or a quote") : Optional.empty();
        if (problem.isPresent()) {
            notes.println("eventloop-guardian: note: JVMs COMMAND starts are guarded without the Java agent: " + problem.get());
            notes.flush();
            return Map.of();
        }
        return Map.of(JAVA_TOOL_OPTIONS, existing == null || existing.isBlank() ? option : existing + " " + option);
    }

    /** Whether {@code account} can read {@code file}: asked of the kernel, as that user. */
    private static boolean readableAs(Path file, Linux.Account account) {
        try {
            Process test = new ProcessBuilder("setpriv", "--reuid=" + account.uid(), "--regid=" + account.gid(),
                    "--init-groups", "--", "test", "-r", file.toString()).start();
            return test.waitFor(10, TimeUnit.SECONDS) && test.exitValue() == 0;
        } catch (IOException e) {
            return Files.isReadable(file); // no setpriv: --report with --user says so itself
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Loads the agent into the running JVM {@code pid} through the Attach API, linked to
     * {@code links}; says why in the notes when it cannot (not a HotSpot JVM, attach disabled,
     * the tool not run from its jar). The JVM prints a warning of its own about an agent loaded
     * at run time (JDK 21+), unless it runs with {@code -XX:+EnableDynamicAgentLoading}.
     */
    static void loadInto(int pid, JvmLinks links, PrintWriter notes) {
        Optional<Path> jar = AgentJar.location();
        if (jar.isEmpty()) {
            notes.println("eventloop-guardian: note: pid " + pid + " is a JVM, guarded without the Java agent: the tool runs from "
                    + AgentJar.describeLocation() + ", not from its jar");
            notes.flush();
            return;
        }
        Optional<String> refused = HotSpotPerfMaps.whyNotAttachable(pid);
        if (refused.isPresent()) {
            notes.println("eventloop-guardian: note: pid " + pid + " is a JVM, guarded without the Java agent: " + refused.get());
            notes.flush();
            return;
        }
        try {
            com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(Integer.toString(pid));
            try {
                vm.loadAgent(jar.get().toString(), links.agentOptions());
            } finally {
                vm.detach();
            }
        } catch (com.sun.tools.attach.AttachNotSupportedException | com.sun.tools.attach.AgentLoadException
                 | com.sun.tools.attach.AgentInitializationException | IOException e) {
            notes.println("eventloop-guardian: note: pid " + pid + " is a JVM, guarded without the Java agent: it could not be "
                    + "loaded (" + e.getMessage() + ")");
            notes.flush();
        }
    }

    /** Whether process {@code pid} runs a HotSpot JVM: libjvm is mapped in it. */
    static boolean isJvm(int pid) {
        try (var lines = Files.lines(Path.of("/proc", Integer.toString(pid), "maps"))) {
            return lines.anyMatch(line -> line.endsWith("/libjvm.so"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }
}
