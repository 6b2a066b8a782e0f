package dev.eventloopguardian.metrics;

import dev.eventloopguardian.guard.ReportingGuard;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.report.ReportedSleep;
import dev.eventloopguardian.report.SessionObserver;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A session's metrics, served over HTTP for Prometheus (the client library's exposition:
 * OpenMetrics or Prometheus text, as the scraper asks) at {@code /metrics} until closed. It owns
 * its server and the one thread that answers scrapes; closing it stops both, and returns once
 * a scrape in progress has ended, so that the guard the metrics read can be closed after it.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    private final HTTPServer server;
    private final ExecutorService scrapes;
    private final MetricsAddress address;
    private final SessionObserver observer;

    private MetricsEndpoint(HTTPServer server, ExecutorService scrapes, MetricsAddress address, SessionObserver observer) {
        this.server = server;
        this.scrapes = scrapes;
        this.address = address;
        this.observer = observer;
    }

    /**
     * Serves the metrics of a session guarded by {@code guard} at {@code address}. Throws when the
     * address cannot be resolved or bound ({@link java.net.BindException}: in use, or not this
     * machine's), having started nothing.
     */
    public static MetricsEndpoint serve(MetricsAddress address, ReportingGuard guard) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        SleepMetrics sleeps = new SleepMetrics(registry);
        GuardHealth health = new GuardHealth(registry, guard);
        InetAddress host = InetAddress.getByName(address.host());
        // One thread: a scrape every few seconds needs no more, and a daemon cannot keep a JVM alive.
        ExecutorService scrapes = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("metrics-http").daemon(true)
                .factory());
        try {
            HTTPServer server = HTTPServer.builder(Prometheus.PROPERTIES)
                    .inetAddress(host)
                    .port(address.port())
                    .registry(registry)
                    .executorService(scrapes)
                    .buildAndStart();
            return new MetricsEndpoint(server, scrapes, address.withPort(server.getPort()), both(sleeps, health));
        } catch (IOException | RuntimeException e) {
            scrapes.shutdownNow();
            throw e;
        }
    }

    private static SessionObserver both(SleepMetrics sleeps, GuardHealth health) {
        return new SessionObserver() {
            @Override
            public void guarding(long pid, boolean inherited) {
                health.guarding(pid, inherited);
            }

            @Override
            public void detached() {
                health.detached();
            }

            @Override
            public void reported(ReportedSleep sleep) {
                sleeps.reported(sleep);
            }

            @Override
            public void woke(ReportedSleep sleep, long offCpuNanos) {
                sleeps.woke(sleep, offCpuNanos);
            }
        };
    }

    /** Where it listens: the port the system picked when asked for port 0. */
    public MetricsAddress address() {
        return address;
    }

    /** What the session tells the metrics. */
    public SessionObserver observer() {
        return observer;
    }

    /** Stops serving: the port is closed and the scrape thread has ended when this returns. */
    @Override
    public void close() {
        server.close(); // stops the listener and the server's dispatcher thread, then shuts the executor down
        try {
            scrapes.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
