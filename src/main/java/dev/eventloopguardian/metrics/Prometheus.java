package dev.eventloopguardian.metrics;

import io.prometheus.metrics.config.PrometheusProperties;

/** What this package's metrics share of the Prometheus client. */
final class Prometheus {
    /**
     * The client's defaults, not {@code PrometheusProperties.get()}, which reads a
     * {@code prometheus.properties} file and {@code IO_PROMETHEUS_*} variables: a session's
     * environment is its COMMAND's, and what it sets for its own client must not move our port or
     * turn our histograms native.
     */
    static final PrometheusProperties PROPERTIES = PrometheusProperties.builder().build();

    private Prometheus() {
    }
}
