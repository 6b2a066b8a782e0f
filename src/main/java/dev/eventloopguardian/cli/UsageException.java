package dev.eventloopguardian.cli;

/** A mistake in how we were called: exit 64, with the message and a pointer to --help. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
