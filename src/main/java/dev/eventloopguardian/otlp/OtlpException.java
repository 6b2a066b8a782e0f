package dev.eventloopguardian.otlp;

/**
 * The export cannot start as configured: an {@code OTEL_*} variable the SDK refuses, or asks for
 * what this build leaves out (gRPC). Its message says which and what to set instead.
 */
public final class OtlpException extends Exception {
    public OtlpException(String message, Throwable cause) {
        super(message, cause);
    }
}
