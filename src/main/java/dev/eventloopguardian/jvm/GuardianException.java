package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.GuardException;

/**
 * {@link EventLoopGuardian.Builder#install} could not guard this JVM. Nothing was left attached.
 * The message says why and what to do.
 */
public final class GuardianException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    GuardianException(String message, Throwable cause) {
        super(message, cause);
    }

    static GuardianException of(GuardException failure) {
        if (failure.kind() == GuardException.Kind.PERMISSION) {
            return new GuardianException("this JVM may not load the guard: " + failure.getMessage() + ". It needs "
                    + "CAP_BPF and CAP_PERFMON. Either give them to it (run it as root, or grant them to its java binary "
                    + "with setcap cap_bpf,cap_perfmon+ep), or leave this JVM unprivileged and guard it from outside "
                    + "with the eventloop-guardian command run as root (launch it with --report --all-threads --user USER, "
                    + "or eventloop-guardian attach --pid PID), which loads this agent into it: Java-level waits and Java "
                    + "stacks included", failure);
        }
        return new GuardianException("cannot guard this JVM: " + failure.getMessage(), failure);
    }
}
