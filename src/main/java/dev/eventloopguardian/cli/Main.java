package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.Guard;
import picocli.CommandLine;

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
        CommandLine cli = new CommandLine(new GuardCommand());
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
}
