package dev.eventloopguardian.cli;

import dev.eventloopguardian.guard.ReportingGuard;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.metrics.MetricsAddress;
import dev.eventloopguardian.metrics.MetricsEndpoint;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;

/**
 * {@code --metrics [ADDR:]PORT}: the session's metrics, served for Prometheus while it runs: the
 * option's text, its errors and what to do about them. The command line reaches the metrics only
 * through here, and only when the option was given, so that neither they nor the Prometheus client
 * are loaded by one that does not ask for them (a guard's launch time; see MetricsTest).
 */
final class MetricsOption {
    static final String NAME = "--metrics";
    static final String DESCRIPTION = "Serve Prometheus metrics at http://[ADDR:]PORT/metrics while the session runs: "
            + "blocking sleeps by pid, process, thread pool, syscall, kind and container; how long they blocked; "
            + "drops; the guard's health. ADDR is 127.0.0.1 unless given (0.0.0.0:9464 serves every interface); port "
            + "0 takes a free one. The address is printed. A thread pool is a thread's name with each run of digits "
            + "written N (vert.x-eventloop-thread-3 is vert.x-eventloop-thread-N); a thread named as its process "
            + "keeps its name. Past 1000 series (100 for the histogram), sleeps are counted under the labels 'other'.";

    private MetricsOption() {
    }

    /** {@code text} read as an address, or a usage error that says how to write one. */
    static MetricsAddress address(String text) throws UsageException {
        try {
            return MetricsAddress.parse(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException(NAME + " " + text + ": " + e.getMessage());
        }
    }

    /**
     * Serves the metrics of {@code guard}'s session at {@code text}, and says where on
     * {@code notes}. An address that cannot be bound is a usage error, before anything runs.
     */
    static MetricsEndpoint serve(String text, ReportingGuard guard, PrintWriter notes) throws UsageException, GuardException {
        MetricsAddress address = address(text);
        MetricsEndpoint endpoint;
        try {
            endpoint = MetricsEndpoint.serve(address, guard);
        } catch (UnknownHostException e) {
            throw new UsageException(NAME + " " + text + ": no such address: " + address.host()
                    + "; give an address of this machine, e.g. " + NAME + " 127.0.0.1:" + address.port());
        } catch (IOException e) {
            String remedy = isThisMachines(address.host())
                    ? "give another port, or port 0 for a free one (" + NAME + " " + address.withPort(0) + ")"
                    : "give an address of this machine (" + NAME + " 127.0.0.1:" + address.port() + ", or 0.0.0.0:"
                    + address.port() + " for every interface)";
            throw new UsageException(NAME + " " + text + ": cannot listen on " + address + ": " + e.getMessage() + "; "
                    + remedy);
        } catch (NoClassDefFoundError e) {
            throw new GuardException(GuardException.Kind.UNSUPPORTED, NAME + " needs the Prometheus client, which is "
                    + "kept beside the jar in target/lib, not in it: run ./eventloop-guardian, which puts it on the "
                    + "class path (missing: " + e.getMessage() + ")", null, e);
        }
        notes.println("eventloop-guardian: metrics at " + endpoint.address().url());
        notes.flush();
        return endpoint;
    }

    /** Whether {@code host} names this machine, where another port may do: else the address is wrong. */
    private static boolean isThisMachines(String host) {
        try {
            InetAddress address = InetAddress.getByName(host);
            return address.isAnyLocalAddress() || address.isLoopbackAddress() || NetworkInterface.getByInetAddress(address) != null;
        } catch (IOException e) {
            return false;
        }
    }
}
