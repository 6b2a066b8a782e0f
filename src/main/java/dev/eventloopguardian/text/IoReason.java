package dev.eventloopguardian.text;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * Why a read or write failed, in the words of the system ("No space left on device",
 * "permission denied"). Java's file exceptions often carry only the path as their message, and
 * the reason elsewhere: a message built from {@code getMessage()} alone says nothing.
 */
public final class IoReason {
    private IoReason() {
    }

    public static String of(IOException e) {
        return switch (e) {
            case AccessDeniedException denied -> "permission denied";
            case NoSuchFileException missing -> "no such file or directory";
            case FileSystemException other when other.getReason() != null -> other.getReason();
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }
}
