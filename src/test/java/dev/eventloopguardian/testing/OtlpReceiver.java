package dev.eventloopguardian.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.resource.v1.Resource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

/**
 * A real OTLP/HTTP receiver, as an OpenTelemetry Collector's {@code otlp} receiver is on port
 * 4318: it takes {@code POST /v1/logs} and {@code /v1/metrics} in binary protobuf (gzip'd or not),
 * decodes them with the published OTLP classes and answers as the specification says (200 and an
 * empty response message; 415 for a content type it does not take). Listens on 127.0.0.1 only,
 * on a free port, until closed. What it received is kept for the test to look at.
 */
public final class OtlpReceiver implements AutoCloseable {
    /** A request as it came: its headers (names in lower case) and the decoded message. */
    public record Received<T>(Map<String, String> headers, T request) {
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Received<ExportLogsServiceRequest>> logs = new CopyOnWriteArrayList<>();
    private final List<Received<ExportMetricsServiceRequest>> metrics = new CopyOnWriteArrayList<>();

    private OtlpReceiver(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static OtlpReceiver start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        ExecutorService executor = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("otlp-receiver").daemon(true)
                .factory());
        server.setExecutor(executor);
        OtlpReceiver receiver = new OtlpReceiver(server, executor);
        server.createContext("/v1/logs", exchange -> receiver.take(exchange, ExportLogsServiceRequest::parseFrom,
                receiver.logs, ExportLogsServiceResponse.getDefaultInstance().toByteArray()));
        server.createContext("/v1/metrics", exchange -> receiver.take(exchange, ExportMetricsServiceRequest::parseFrom,
                receiver.metrics, ExportMetricsServiceResponse.getDefaultInstance().toByteArray()));
        server.start();
        return receiver;
    }

    @FunctionalInterface
    private interface Parser<T> {
        T parse(byte[] body) throws InvalidProtocolBufferException;
    }

    private <T> void take(HttpExchange exchange, Parser<T> parser, List<Received<T>> into, byte[] response) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("POST")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            String type = exchange.getRequestHeaders().getFirst("Content-Type");
            if (type == null || !type.startsWith("application/x-protobuf")) {
                exchange.sendResponseHeaders(415, -1);
                return;
            }
            byte[] body;
            try (InputStream in = "gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                    ? new GZIPInputStream(exchange.getRequestBody()) : exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            T request;
            try {
                request = parser.parse(body);
            } catch (InvalidProtocolBufferException e) {
                exchange.sendResponseHeaders(400, -1);
                return;
            }
            Map<String, String> headers = exchange.getRequestHeaders().entrySet().stream()
                    .collect(Collectors.toMap(entry -> entry.getKey().toLowerCase(java.util.Locale.ROOT),
                            entry -> String.join(",", entry.getValue()), (a, b) -> a + "," + b));
            into.add(new Received<>(headers, request));
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, response.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(response);
            }
        }
    }

    /** The base URL to give an exporter: {@code http://127.0.0.1:PORT}. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The log requests received so far, in order. */
    public List<Received<ExportLogsServiceRequest>> logRequests() {
        return List.copyOf(logs);
    }

    /** The metric requests received so far, in order. */
    public List<Received<ExportMetricsServiceRequest>> metricRequests() {
        return List.copyOf(metrics);
    }

    /** Every log record received so far, with the resource it came from. */
    public List<Logged> logRecords() {
        return logs.stream().flatMap(received -> received.request().getResourceLogsList().stream())
                .flatMap(resource -> resource.getScopeLogsList().stream()
                        .flatMap(scope -> scope.getLogRecordsList().stream()
                                .map(record -> new Logged(resource.getResource(), scope.getScope().getName(), record))))
                .toList();
    }

    /** Every metric received so far, in the order they came (each export sends every series again). */
    public List<Metric> metrics() {
        return metrics.stream().flatMap(received -> received.request().getResourceMetricsList().stream())
                .flatMap(resource -> resource.getScopeMetricsList().stream())
                .flatMap(scope -> scope.getMetricsList().stream())
                .toList();
    }

    /** The last metric named {@code name} received, if any. */
    public java.util.Optional<Metric> lastMetric(String name) {
        List<Metric> named = metrics().stream().filter(metric -> metric.getName().equals(name)).toList();
        return named.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(named.getLast());
    }

    /** Waits until a log record matches, and returns it. */
    public Logged awaitLogRecord(Predicate<Logged> matches, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            java.util.Optional<Logged> found = logRecords().stream().filter(matches).findFirst();
            if (found.isPresent()) {
                return found.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no matching log record within " + timeout + "; received: " + logRecords());
            }
            Thread.sleep(20);
        }
    }

    /** A log record as received, with the resource and the instrumentation scope that sent it. */
    public record Logged(Resource resource, String scope, LogRecord record) {
        /** A string attribute of the record; empty when it has none of that name. */
        public String string(String key) {
            return attribute(record.getAttributesList(), key).getStringValue();
        }

        /** An integer attribute of the record; 0 when it has none of that name. */
        public long integer(String key) {
            return attribute(record.getAttributesList(), key).getIntValue();
        }

        /** A string-array attribute of the record; empty when it has none of that name. */
        public List<String> strings(String key) {
            return attribute(record.getAttributesList(), key).getArrayValue().getValuesList().stream()
                    .map(AnyValue::getStringValue).toList();
        }

        /** Whether the record has an attribute of that name. */
        public boolean has(String key) {
            return record.getAttributesList().stream().anyMatch(attribute -> attribute.getKey().equals(key));
        }

        /** A string attribute of the resource. */
        public String resourceString(String key) {
            return attribute(resource.getAttributesList(), key).getStringValue();
        }

        public String body() {
            return record.getBody().getStringValue();
        }

        /** The record in a few lines, each attribute on one (an array as JSON-like list), for a person to read. */
        public String describe() {
            StringBuilder text = new StringBuilder()
                    .append("event ").append(record.getEventName()).append(", severity ").append(record.getSeverityText())
                    .append(", time ").append(java.time.Instant.ofEpochSecond(0, record.getTimeUnixNano())).append('\n')
                    .append("body: ").append(body()).append('\n');
            for (KeyValue attribute : record.getAttributesList()) {
                text.append(attribute.getKey()).append(": ").append(readable(attribute.getValue())).append('\n');
            }
            return text.toString();
        }

        private static String readable(AnyValue value) {
            return switch (value.getValueCase()) {
                case STRING_VALUE -> value.getStringValue();
                case INT_VALUE -> Long.toString(value.getIntValue());
                case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
                case DOUBLE_VALUE -> Double.toString(value.getDoubleValue());
                case ARRAY_VALUE -> value.getArrayValue().getValuesList().stream().map(Logged::readable)
                        .collect(Collectors.joining(", ", "[", "]"));
                default -> value.toString().strip();
            };
        }
    }

    /** The value of attribute {@code key} among {@code attributes}; the empty value when there is none. */
    public static AnyValue attribute(List<KeyValue> attributes, String key) {
        return attributes.stream().filter(attribute -> attribute.getKey().equals(key)).map(KeyValue::getValue)
                .findFirst().orElse(AnyValue.getDefaultInstance());
    }

    /** A map of the string attributes among {@code attributes}, for asserting on a data point's labels. */
    public static Map<String, String> strings(List<KeyValue> attributes) {
        return attributes.stream().collect(Collectors.toMap(KeyValue::getKey, attribute -> attribute.getValue().getStringValue()));
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
