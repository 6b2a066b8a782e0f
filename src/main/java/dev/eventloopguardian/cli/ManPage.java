package dev.eventloopguardian.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The man page, in troff with man(7) macros, from the same command specs that print --help: their
 * synopses, descriptions, options and footers. The help text's shape is read as it is written:
 * paragraphs are separated by empty lines, lines indented by two spaces are kept as they are
 * (examples, tables), an "Examples:" paragraph goes to EXAMPLES and the root's "Exit status" one to
 * EXIT STATUS (a subcommand's stays in its part of COMMANDS), and the "Options:" line that heads
 * the option list is dropped.
 */
final class ManPage {
    private static final String EXAMPLES = "Examples:";
    private static final String OPTIONS_HEADING = "Options:";

    private final StringBuilder out = new StringBuilder();
    private final List<String> examples = new ArrayList<>();
    private final List<String> exitStatus = new ArrayList<>();

    private ManPage() {
    }

    /** The page of {@code root}, its subcommands under COMMANDS; {@code summary} is the NAME line's. */
    static String of(CommandSpec root, String version, String summary) {
        return new ManPage().write(root, version, summary);
    }

    private String write(CommandSpec root, String version, String summary) {
        String name = root.name();
        line(".TH " + quote(name.toUpperCase()) + " 1 \"\" " + quote(name + " " + version) + " \"User Commands\"");
        // Left-adjusted and unhyphenated, as help reads: an unbroken word (the agent's options) cannot be
        // justified, and an option name is never split.
        line(".ad l");
        line(".nh");
        line(".SH NAME");
        line(escape(name) + " \\- " + escape(summary));
        line(".SH SYNOPSIS");
        synopsis(root);
        line(".SH DESCRIPTION");
        text(root.usageMessage().description(), true);
        text(root.usageMessage().footer(), true);
        line(".SH OPTIONS");
        options(root, false);
        line(".SH COMMANDS");
        for (CommandSpec command : root.subcommands().values().stream().map(CommandLine::getCommandSpec).distinct().toList()) {
            line(".SS " + escape(command.name()));
            if (command.usageMessage().customSynopsis().length > 0) {
                synopsis(command);
            }
            text(command.usageMessage().description(), false);
            text(command.usageMessage().footer(), false);
            options(command, true);
        }
        if (!exitStatus.isEmpty()) {
            line(".SH EXIT STATUS");
            paragraph(exitStatus);
        }
        if (!examples.isEmpty()) {
            line(".SH EXAMPLES");
            preformatted(examples);
        }
        return out.toString();
    }

    private void synopsis(CommandSpec command) {
        List<String> lines = new ArrayList<>();
        for (String s : command.usageMessage().customSynopsis()) {
            lines.add(s.replaceFirst("^(Usage:)? *", ""));
        }
        preformatted(lines);
    }

    /** Help text as paragraphs: examples, and the {@code root} command's exit status, are set aside for their sections. */
    private void text(String[] help, boolean root) {
        List<String> paragraph = new ArrayList<>();
        for (String s : help) {
            if (s.isEmpty()) {
                flush(paragraph, root);
            } else if (!s.equals(OPTIONS_HEADING)) {
                paragraph.add(s);
            }
        }
        flush(paragraph, root);
    }

    private void flush(List<String> paragraph, boolean root) {
        if (paragraph.isEmpty()) {
            return;
        }
        if (paragraph.getFirst().equals(EXAMPLES)) {
            examples.addAll(paragraph.subList(1, paragraph.size()));
        } else if (paragraph.getFirst().startsWith("Exit status") && root) {
            exitStatus.addAll(paragraph);
        } else {
            paragraph(paragraph);
        }
        paragraph.clear();
    }

    /** Lines in fill mode, except runs of lines indented by two spaces, which are kept as written. */
    private void paragraph(List<String> lines) {
        line(".PP");
        List<String> literal = new ArrayList<>();
        for (String s : lines) {
            if (s.startsWith("  ")) {
                literal.add(s);
                continue;
            }
            preformatted(literal);
            literal.clear();
            line(filled(s));
        }
        preformatted(literal);
    }

    private void preformatted(List<String> lines) {
        if (lines.isEmpty()) {
            return;
        }
        line(".nf");
        lines.forEach(s -> line(escape(s)));
        line(".fi");
    }

    /** The options, headed "Options:" where {@code headed} (in a subcommand's part of COMMANDS). */
    private void options(CommandSpec command, boolean headed) {
        List<OptionSpec> shown = command.options().stream().filter(o -> !o.hidden()).toList();
        List<PositionalParamSpec> positionals = command.positionalParameters().stream().filter(p -> !p.hidden()).toList();
        if (shown.isEmpty() && positionals.isEmpty()) {
            return;
        }
        if (headed) {
            line(".PP");
            line("Options:");
        }
        for (OptionSpec option : shown) {
            String names = String.join(", ", Arrays.stream(option.names()).map(n -> "\\fB" + escape(n) + "\\fR").toList());
            boolean takesValue = option.arity().max() > 0;
            line(".TP");
            line(names + (takesValue ? " \\fI" + escape(option.paramLabel()) + "\\fR" : ""));
            line(filled(String.join(" ", option.description())));
        }
        for (PositionalParamSpec positional : positionals) {
            line(".TP");
            line("\\fI" + escape(positional.paramLabel()) + "\\fR");
            line(filled(String.join(" ", positional.description())));
        }
    }

    private void line(String s) {
        out.append(s).append('\n');
    }

    /** {@code s} as troff text: its backslashes and hyphens literal, and never read as a request. */
    static String escape(String s) {
        String escaped = s.replace("\\", "\\e").replace("-", "\\-");
        return escaped.startsWith(".") || escaped.startsWith("'") ? "\\&" + escaped : escaped;
    }

    /** Text to fill, which may also break before a bracket inside a word ({@code REGEX[,format=...][,output=...]}). */
    private static String filled(String s) {
        return escape(s).replaceAll("(?<=\\S)\\[", "\\\\:[");
    }

    private static String quote(String s) {
        return "\"" + escape(s).replace("\"", "\\(dq") + "\"";
    }
}
