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

    /** Where the agent's classes come from; a test puts another place here. */
    Path agentLocation = codeSourceOf(Agent.class);

    @Override
    public Integer call() {
        if (!Files.isRegularFile(agentLocation)) {
            spec.commandLine().getErr().println("eventloop-guardian: the tool runs from " + agentLocation
                    + ", not from a jar, and -javaagent needs the jar: build it with 'mvn package' "
                    + "(target/eventloop-guardian.jar) or run ./eventloop-guardian agent-path");
            return ExitCodes.UNSUPPORTED;
        }
        spec.commandLine().getOut().println(agentLocation);
        return 0;
    }

    private static Path codeSourceOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot tell where " + type.getName() + " was loaded from", e);
        }
    }
}
