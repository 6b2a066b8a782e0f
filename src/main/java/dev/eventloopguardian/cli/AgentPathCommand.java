package dev.eventloopguardian.cli;

import dev.eventloopguardian.jvm.Agent;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "agent-path",
        mixinStandardHelpOptions = true,
        description = {
                "Prints the absolute path of the jar this tool runs from, which is also its Java agent:",
                "  java -javaagent:\"$(eventloop-guardian agent-path)\"=threads='loop-.*' -jar app.jar",
                "Agent options: threads=REGEX[,format=json|text][,output=FILE][,action=report|abort][,jfr=true]"
                        + "[,required=true]. Exits 69 when the tool runs from a directory of classes, not a jar.",
        })
final class AgentPathCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Where the agent's classes come from; a test puts another place here. Found when the command
     * runs, not when picocli builds the command tree, which every other command does too.
     */
    Path agentLocation;

    @Override
    public Integer call() {
        Path agentLocation = this.agentLocation != null ? this.agentLocation : locationOf(Agent.class);
        if (agentLocation == null || !Files.isRegularFile(agentLocation)) {
            spec.commandLine().getErr().println("eventloop-guardian: the tool runs from " + agentLocation
                    + ", not from a jar, and -javaagent needs the jar: build it with 'mvn package' "
                    + "(target/eventloop-guardian.jar) or run ./eventloop-guardian agent-path");
            return ExitCodes.UNSUPPORTED;
        }
        spec.commandLine().getOut().println(agentLocation);
        return 0;
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
