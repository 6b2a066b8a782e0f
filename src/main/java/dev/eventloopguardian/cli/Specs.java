package dev.eventloopguardian.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;
import java.util.List;

/**
 * Declares the commands' options through picocli's programmatic API rather than annotations.
 * Reading annotations makes the JDK generate a proxy class per annotation type at run time,
 * which no AOT cache holds: it was a third of every launch (docs/architecture.md, "Launch
 * time"). Values are read back from the {@link ParseResult} by option name.
 */
final class Specs {
    /** What a command does with what the user gave it: the user object of its spec. */
    @FunctionalInterface
    interface Command {
        int run(ParseResult parsed, PrintWriter out, PrintWriter err);
    }

    private Specs() {
    }

    /**
     * A command spec that runs {@code command}, with -h/--help and -V/--version. They are
     * declared here, not with picocli's mixinStandardHelpOptions, which reads them from an
     * annotated class; and descriptions are taken as written, without ${...} variables.
     */
    static CommandSpec command(String name, Command command) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
        spec.name(name);
        spec.interpolateVariables(false);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help message and exit.")
                .build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
        return spec;
    }

    /** An option that takes no value: true when given. */
    static OptionSpec flag(String name, String description) {
        return OptionSpec.builder(name).arity("0").type(boolean.class).description(description).build();
    }

    /** The same, with a second name (e.g. {@code -q}). */
    static OptionSpec flag(String[] names, String description) {
        return OptionSpec.builder(names).arity("0").type(boolean.class).description(description).build();
    }

    /** An option with one value of {@code type}, shown as {@code label}. */
    static OptionSpec.Builder option(String name, String label, Class<?> type, String description) {
        return OptionSpec.builder(name).paramLabel(label).type(type).description(description);
    }

    /** An option with comma-separated values that may be given again: they add up. */
    static OptionSpec list(String name, String label, String description) {
        return OptionSpec.builder(name).paramLabel(label).type(List.class).auxiliaryTypes(String.class).splitRegex(",")
                .description(description).build();
    }

    static boolean flag(ParseResult parsed, String name) {
        return parsed.matchedOptionValue(name, false);
    }

    static List<String> list(ParseResult parsed, String name) {
        return parsed.matchedOptionValue(name, List.of());
    }
}
