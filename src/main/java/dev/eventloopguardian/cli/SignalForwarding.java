package dev.eventloopguardian.cli;

import dev.eventloopguardian.sys.Linux;
import dev.eventloopguardian.sys.SyscallException;
import sun.misc.Signal;

import java.util.ArrayList;
import java.util.List;

/**
 * Passes the signals a supervisor sends us on to COMMAND, our child, as tini and dumb-init do,
 * so that whoever signals the guardian reaches what it guards:
 * <ul>
 * <li>HUP, TERM, USR1, USR2, ALRM and WINCH always. WINCH also reaches COMMAND straight from
 *     its terminal; a second one only makes it read its size again.</li>
 * <li>INT only when stdin is not a terminal. From a terminal, Ctrl-C already reaches COMMAND,
 *     which is in the terminal's foreground process group with us: forwarding it too would
 *     deliver it twice, and a second Ctrl-C means "force quit" to many programs.</li>
 * <li>Not QUIT: HotSpot keeps it for itself and lets no program catch it. The JVM's answer to
 *     it, a thread dump, is turned off (scripts/jvm.options), so a QUIT sent to us changes
 *     nothing; send it to COMMAND's pid.</li>
 * <li>Not TSTP, TTIN, TTOU and CONT: job control stops and resumes the terminal's whole
 *     process group, COMMAND with us, as it should.</li>
 * </ul>
 */
final class SignalForwarding implements AutoCloseable {
    /** The signals forwarded whatever stdin is; see the class comment for the others. */
    static final List<String> ALWAYS = List.of("HUP", "TERM", "USR1", "USR2", "ALRM", "WINCH");

    private final List<Signal> installed = new ArrayList<>();
    private final List<sun.misc.SignalHandler> previous = new ArrayList<>();

    private SignalForwarding() {
    }

    static SignalForwarding to(long pid) {
        SignalForwarding forwarding = new SignalForwarding();
        List<String> names = new ArrayList<>(ALWAYS);
        if (!Linux.isTerminal(0)) {
            names.add("INT");
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
            // A JVM started with -Xrs keeps HUP, INT and TERM; ours is not.
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < installed.size(); i++) {
            Signal.handle(installed.get(i), previous.get(i));
        }
    }
}
