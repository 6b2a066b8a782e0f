package dev.eventloopguardian.guard;

import java.util.List;

/** The user named a syscall that this CPU architecture does not have. */
public final class UnknownSyscallException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final List<String> suggestions;

    UnknownSyscallException(String name, String arch, List<String> suggestions) {
        super("unknown syscall '" + name + "' on " + arch
                + (suggestions.isEmpty() ? "" : "; did you mean " + String.join(", ", suggestions) + "?"));
        this.name = name;
        this.suggestions = List.copyOf(suggestions);
    }

    public String name() {
        return name;
    }

    public List<String> suggestions() {
        return suggestions;
    }
}
