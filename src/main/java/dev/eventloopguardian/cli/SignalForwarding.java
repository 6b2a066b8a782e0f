package dev.eventloopguardian.cli;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;
import sun.misc.Signal;

import java.util.ArrayList;
import java.util.List;

/**
 * Passes the signals a supervisor sends us on to COMMAND, our child, so that stopping the
 * guardian stops what it guards. INT and QUIT from a terminal already reach COMMAND, which is in
 * the terminal's foreground group with us: forwarding them too would deliver them twice, so they
 * are forwarded only when stdin is not a terminal.
 */
final class SignalForwarding implements AutoCloseable {
    private final List<Signal> installed = new ArrayList<>();
    private final List<sun.misc.SignalHandler> previous = new ArrayList<>();

    private SignalForwarding() {
    }

    static SignalForwarding to(long pid) {
        SignalForwarding forwarding = new SignalForwarding();
        List<String> names = new ArrayList<>(List.of("TERM", "HUP", "USR1", "USR2"));
        if (!Linux.isTerminal(0)) {
            names.addAll(List.of("INT", "QUIT"));
        }
        for (String name : names) {
            forwarding.install(new Signal(name), pid);
        }
        return forwarding;
    }

    private void install(Signal signal, long pid) {
        try {
            previous.add(Signal.handle(signal, received -> {
                try {
                    Linux.kill((int) pid, received.getNumber());
                } catch (SyscallException gone) {
                    // COMMAND has already exited; its status is on its way.
                }
            }));
            installed.add(signal);
        } catch (IllegalArgumentException usedByTheJvm) {
            // The JVM keeps some signals for itself (QUIT for thread dumps, USR2 on some builds).
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < installed.size(); i++) {
            Signal.handle(installed.get(i), previous.get(i));
        }
    }
}
