package dev.eventloopguardian.cli;

import dev.eventloopguardian.jvm.AgentJar;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "agent-path",
        mixinStandardHelpOptions = true,
        description = {
                "Prints the absolute path of the jar this tool runs from, which is also its Java agent:",
                "  java -javaagent:\"$(eventloop-guardian agent-path)\"=threads='loop-.*' -jar app.jar",
                "Agent options: threads=REGEX[,format=json|text][,output=FILE][,action=report|abort][,jfr=true]"
                        + "[,uninterruptible=true][,required=true]. Exits 69 when the tool runs from a directory of classes, "
                        + "not a jar.",
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
        Optional<Path> jar = this.agentLocation != null
                ? Optional.of(this.agentLocation).filter(Files::isRegularFile) : AgentJar.location();
        if (jar.isEmpty()) {
            String where = this.agentLocation != null ? this.agentLocation.toString() : AgentJar.describeLocation();
            spec.commandLine().getErr().println("eventloop-guardian: the tool runs from " + where
                    + ", not from a jar, and -javaagent needs the jar: build it with 'mvn package' "
                    + "(target/eventloop-guardian.jar) or run ./eventloop-guardian agent-path");
            return ExitCodes.UNSUPPORTED;
        }
        spec.commandLine().getOut().println(jar.get());
        return 0;
    }
}
