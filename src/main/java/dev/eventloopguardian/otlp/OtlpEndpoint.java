package dev.eventloopguardian.otlp;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where OTLP goes: the base URL of an OTLP/HTTP receiver, {@code http://HOST:4318} for an
 * OpenTelemetry Collector, as {@code OTEL_EXPORTER_OTLP_ENDPOINT} takes it. The exporters add
 * {@code v1/logs} and {@code v1/metrics} to its path. Checked here, where a mistake can still be
 * told to the one who typed it: the SDK would take a URL without a scheme or host and fail at the
 * first export, far from the command line.
 */
public record OtlpEndpoint(URI uri) {
    private static final String FORM = "write the receiver's URL, e.g. http://127.0.0.1:4318 (an OpenTelemetry "
            + "Collector's OTLP/HTTP port), or https://collector.example:4318/ with TLS";

    /** Reads {@code text}; throws {@link IllegalArgumentException} saying how to write one. */
    public static OtlpEndpoint parse(String text) {
        if (!text.contains("://")) {
            // 127.0.0.1:4318 and localhost:4318 would read as URIs of schemes "127.0.0.1" and "localhost"
            throw new IllegalArgumentException("'" + text + "' has no http:// or https://: " + FORM
                    + (text.isEmpty() || text.startsWith("/") ? "" : "; here perhaps http://" + text));
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + text + "' is not a URL (" + e.getReason() + "): " + FORM);
        }
        String scheme = uri.getScheme();
        if (scheme == null || !scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            throw new IllegalArgumentException("'" + text + "': OTLP is sent over HTTP here, not " + scheme + ": " + FORM);
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("'" + text + "' has no host (or one URLs cannot hold; an IPv6 address "
                    + "goes in brackets, http://[::1]:4318): " + FORM);
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("'" + text + "': put credentials in OTEL_EXPORTER_OTLP_HEADERS "
                    + "(e.g. Authorization=Basic ...), not in the URL, which is printed: " + FORM);
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("'" + text + "': a base URL has no ?query or #fragment: the exporters "
                    + "add v1/logs and v1/metrics to its path; " + FORM);
        }
        return new OtlpEndpoint(uri);
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
