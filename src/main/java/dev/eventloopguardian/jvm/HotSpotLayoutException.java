package dev.eventloopguardian.jvm;

/**
 * The running JVM does not publish what {@link HotSpotLayout} reads: it is not HotSpot, or a
 * HotSpot too old or too new for the fields we name. The message says which symbol, field or
 * constant is missing.
 */
public final class HotSpotLayoutException extends Exception {
    public HotSpotLayoutException(String message) {
        super(message);
    }

    public HotSpotLayoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
