package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.Guard;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;

/** Entry point of {@code java -jar eventloop-guardian.jar}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        Guard.warmUpInBackground();
        System.exit(run(args));
    }

    static int run(String[] args) {
        CommandLine cli = commandLine();
        return cli.execute(args);
    }

    static CommandLine commandLine() {
        CommandSpec root = GuardCommand.spec();
        root.addSubcommand("attach", AttachCommand.spec());
        root.addSubcommand("check", CheckCommand.spec());
        root.addSubcommand("watch", WatchCommand.spec());
        root.addSubcommand("agent-path", AgentPathCommand.spec());
        CommandLine cli = new CommandLine(root);
        cli.setExecutionStrategy(Main::execute);
        // The first word that is not one of our options is COMMAND: everything after it is its own.
        cli.setStopAtPositional(true);
        cli.setUnmatchedOptionsArePositionalParams(false);
        cli.setExitCodeExceptionMapper(e -> ExitCodes.INTERNAL);
        cli.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("eventloop-guardian: " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
            err.println("Try 'eventloop-guardian --help'.");
            return ExitCodes.USAGE;
        });
        cli.getCommandSpec().exitCodeOnInvalidInput(ExitCodes.USAGE);
        return cli;
    }

    /** Answers --help and --version, else runs the command the arguments name, with its own part of the parse. */
    private static int execute(ParseResult parsed) {
        Integer helped = CommandLine.executeHelpRequest(parsed);
        if (helped != null) {
            return helped;
        }
        ParseResult command = parsed.hasSubcommand() ? parsed.subcommand() : parsed;
        CommandLine cli = command.commandSpec().commandLine();
        return ((Specs.Command) command.commandSpec().userObject()).run(command, cli.getOut(), cli.getErr());
    }
}
