package dev.eventloopguardian.cli;

import dev.eventloopguardian.jvm.AgentJar;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;

/** {@code agent-path}: where the jar is, for {@code -javaagent}. */
final class AgentPathCommand {
    private AgentPathCommand() {
    }

    static CommandSpec spec() {
        CommandSpec spec = Specs.command("agent-path", (parsed, out, err) -> print(AgentJar.location(),
                AgentJar.describeLocation(), out, err));
        spec.usageMessage().description(
                "Prints the absolute path of the jar this tool runs from, which is also its Java agent:",
                "  java -javaagent:\"$(eventloop-guardian agent-path)\"=threads='loop-.*' -jar app.jar",
                "Agent options: threads=REGEX[,format=json|text][,output=FILE][,action=report|abort][,jfr=true]"
                        + "[,uninterruptible=true][,required=true]. Exits 69 when the tool runs from a directory of classes, "
                        + "not a jar.");
        return spec;
    }

    /**
     * Prints {@code jar}, the agent's jar, or says why there is none: the tool runs from
     * {@code location}, a directory of classes.
     */
    static int print(Optional<Path> jar, String location, PrintWriter out, PrintWriter err) {
        if (jar.isEmpty()) {
            err.println("eventloop-guardian: the tool runs from " + location
                    + ", not from a jar, and -javaagent needs the jar: build it with 'mvn package' "
                    + "(target/eventloop-guardian.jar) or run ./eventloop-guardian agent-path");
            return ExitCodes.UNSUPPORTED;
        }
        out.println(jar.get());
        return 0;
    }
}
