package dev.eventloopguardian.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns INT (Ctrl-C), TERM and HUP into a request to stop, for a session that must detach
 * cleanly instead of dying: the JVM's own handlers would exit at once and leave the summary
 * unwritten.
 */
final class StopSignals implements AutoCloseable {
    private final List<Signal> installed = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();
    private volatile String received;

    private StopSignals() {
    }

    static StopSignals install() {
        return install("INT", "TERM", "HUP");
    }

    /** Stops at the signals {@code names} (INT, TERM...) alone. */
    static StopSignals install(String... names) {
        StopSignals stop = new StopSignals();
        for (String name : names) {
            Signal signal = new Signal(name);
            stop.previous.add(Signal.handle(signal, caught -> stop.received = "SIG" + caught.getName()));
            stop.installed.add(signal);
        }
        return stop;
    }

    boolean received() {
        return received != null;
    }

    /** The signal that asked us to stop, e.g. SIGINT, or null. */
    String signalName() {
        return received;
    }

    @Override
    public void close() {
        for (int i = 0; i < installed.size(); i++) {
            Signal.handle(installed.get(i), previous.get(i));
        }
    }
}
