package dev.eventloopguardian.btf;

/** The kernel's BTF cannot answer a question; the message says what to do about it. */
public final class BtfException extends Exception {
    BtfException(String message) {
        super(message);
    }

    BtfException(String message, Throwable cause) {
        super(message, cause);
    }
}
