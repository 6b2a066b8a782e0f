package dev.eventloopguardian.metrics;

/**
 * Where metrics are served: {@code [ADDR:]PORT}, with ADDR {@value #DEFAULT_HOST} unless given.
 * Only this machine can scrape by default: reports name processes, threads and containers, which
 * are not every network's business. {@code 0.0.0.0:PORT} serves every interface, {@code [::1]:PORT}
 * an IPv6 address; port 0 lets the system pick a free one.
 */
public record MetricsAddress(String host, int port) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    private static final String FORM = "write a port (e.g. 9464), or an address and a port (127.0.0.1:9464; "
            + "0.0.0.0:9464 for every interface; [::1]:9464 for IPv6); port 0 picks a free one";

    public MetricsAddress {
        if (host.isEmpty()) {
            throw new IllegalArgumentException("no address: " + FORM);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a port (0 to 65535): " + FORM);
        }
    }

    /** Reads {@code [ADDR:]PORT}; throws {@link IllegalArgumentException} saying how to write it. */
    public static MetricsAddress parse(String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("'" + text + "' is not [IPV6]:PORT: " + FORM);
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon >= 0 && text.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + text + "': write an IPv6 address in brackets, [ADDR]:PORT; " + FORM);
            }
            host = colon < 0 || colon == 0 ? DEFAULT_HOST : text.substring(0, colon);
            port = text.substring(colon + 1);
        }
        return new MetricsAddress(host, port(text, port));
    }

    /**
     * Decimal digits only, checked one by one: Integer.parseInt would also take a sign, and
     * other scripts' digits.
     */
    private static int port(String text, String digits) {
        if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("'" + text + "' has no port: " + FORM);
        }
        return Integer.parseInt(digits);
    }

    /** This address with another port (the one the system picked for port 0). */
    public MetricsAddress withPort(int other) {
        return new MetricsAddress(host, other);
    }

    /** The URL Prometheus scrapes: {@code http://HOST:PORT/metrics}. */
    public String url() {
        return "http://" + this + "/metrics";
    }

    /** {@code HOST:PORT}, an IPv6 host in brackets: as {@link #parse} reads it. */
    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
