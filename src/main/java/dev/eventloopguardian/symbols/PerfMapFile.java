package dev.eventloopguardian.symbols;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;

/**
 * One process's perf map, read where the process writes it, and the asking for a new one.
 *
 * <p>The file is read when a JIT address is first named, and again only when an address is not
 * found in it and the file changed since (inode, size or modification time; checked at most every
 * 100 ms): a JVM rewrites its map whole on each request, and an appending writer adds to it. Only
 * its last {@link #MAX_BYTES} and {@link #MAX_LINES} lines are read, the newest, so that a huge
 * map costs bounded memory. Like perf, it is read only as a regular file, not through a symbolic
 * link, and only when owned by root or the process's user: anyone may create files in
 * {@code /tmp}.
 *
 * <p>Asks go through a {@link PerfMapWriter}, at most one at a time, and no sooner than
 * {@link #FIRST_ASK_INTERVAL_NANOS} after the last; the interval doubles, up to
 * {@link #LONGEST_ASK_INTERVAL_NANOS}, after an ask whose map did not name the addresses that
 * prompted it (code the JVM does not list, or a stack walk that read garbage), and returns to the
 * first after one that did. A process that cannot be asked is never asked again. Not thread-safe:
 * {@link ProcessSymbols} holds its lock around every call.
 */
final class PerfMapFile {
    static final int MAX_BYTES = 16 << 20;
    static final int MAX_LINES = 1 << 19;
    private static final long RECHECK_NANOS = 100_000_000L;
    static final long FIRST_ASK_INTERVAL_NANOS = 5_000_000_000L;
    static final long LONGEST_ASK_INTERVAL_NANOS = 160_000_000_000L;

    private final Path file;
    private final IntPredicate mayOwn;
    private final LongSupplier clock;
    private final int maxBytes;
    private final int maxLines;

    private PerfMap map = PerfMap.EMPTY;
    private Identity read;
    private long checkedAt;
    private boolean everChecked;
    private long version;

    private CompletableFuture<Void> pending;
    private long[] pendingFor;
    private long askedAt;
    private boolean everAsked;
    private long askInterval = FIRST_ASK_INTERVAL_NANOS;
    private String refusal;

    /** What says that the file changed: a rewrite changes the size or the time, a replacement the inode. */
    private record Identity(Object inode, long size, FileTime modified) {
    }

    /**
     * The perf map at {@code file}, read only when owned by a uid {@code mayOwn} accepts;
     * {@code clock} gives nanoseconds, as {@link System#nanoTime}.
     */
    PerfMapFile(Path file, IntPredicate mayOwn, LongSupplier clock) {
        this(file, mayOwn, clock, MAX_BYTES, MAX_LINES);
    }

    /** With other bounds than {@link #MAX_BYTES} and {@link #MAX_LINES}, for tests. */
    PerfMapFile(Path file, IntPredicate mayOwn, LongSupplier clock, int maxBytes, int maxLines) {
        this.file = file;
        this.mayOwn = mayOwn;
        this.clock = clock;
        this.maxBytes = maxBytes;
        this.maxLines = maxLines;
    }

    /**
     * The perf map of the process at {@code proc} ({@code /proc/PID}): {@code /tmp/perf-N.map}
     * under its own root, N being its pid as it sees it, owned by root or one of its uids. Empty
     * when the process is gone.
     */
    static Optional<PerfMapFile> of(Path proc) {
        return ProcessStatus.read(proc).map(status -> of(proc, status, System::nanoTime));
    }

    static PerfMapFile of(Path proc, ProcessStatus status, LongSupplier clock) {
        return new PerfMapFile(proc.resolve("root").resolve("tmp").resolve("perf-" + status.namespacePid() + ".map"),
                uid -> uid == 0 || status.uids().contains(uid), clock);
    }

    Path file() {
        return file;
    }

    /** {@code name+0xoffset} for JIT code at {@code address}, or null when the map does not name it. */
    String resolve(long address) {
        if (!everChecked) {
            readIfChanged();
        }
        String name = map.resolve(address);
        if (name == null && clock.getAsLong() - checkedAt > RECHECK_NANOS && readIfChanged()) {
            name = map.resolve(address);
        }
        return name;
    }

    /** Grows each time the names change: a stack named before may have other names now. */
    long version() {
        return version;
    }

    /**
     * Reads the file again when it changed since it was read (at most every 100 ms); returns whether
     * the names changed. A file that went away keeps the names it gave, still true of the code.
     */
    boolean refresh() {
        boolean changed = settleAsk();
        return changed || clock.getAsLong() - checkedAt > RECHECK_NANOS && readIfChanged();
    }

    private boolean readIfChanged() {
        checkedAt = clock.getAsLong();
        everChecked = true;
        Identity now = identity();
        if (now == null || now.equals(read)) {
            return false;
        }
        try {
            map = read(now.size());
            read = now;
            version++;
            return true;
        } catch (IOException | SecurityException e) {
            return false; // being replaced, or unreadable to us: the next check tries again
        }
    }

    /** The file's identity, or null when it does not exist or is not one to trust. */
    private Identity identity() {
        try {
            Map<String, Object> attributes = Files.readAttributes(file, "unix:ino,size,lastModifiedTime,uid,isRegularFile",
                    LinkOption.NOFOLLOW_LINKS);
            if (!(Boolean) attributes.get("isRegularFile") || !mayOwn.test((Integer) attributes.get("uid"))) {
                return null;
            }
            return new Identity(attributes.get("ino"), (Long) attributes.get("size"),
                    (FileTime) attributes.get("lastModifiedTime"));
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** Reads the newest lines: the last {@code maxBytes}, and of them the last {@code maxLines}. */
    private PerfMap read(long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            // One byte more than kept, before the cut: if it is a newline, the first line read is whole.
            long from = Math.max(0, size - maxBytes - 1);
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size - from, maxBytes + 1L));
            // The file may be rewritten while it is read: it then ends early, or with half a line.
            while (buffer.hasRemaining() && channel.read(buffer, from + buffer.position()) > 0) {
                // read on
            }
            byte[] text = buffer.array();
            int length = buffer.position();
            int start = 0;
            boolean midLine = from > 0;
            int lines = 0;
            for (int i = length - 1; i >= 0; i--) {
                if (text[i] == '\n' && ++lines > maxLines) {
                    start = i + 1;
                    midLine = false;
                    break;
                }
            }
            return PerfMap.parse(text, start, length, midLine);
        }
    }

    /**
     * Asks {@code writer} for a new map when one is due (see the class comment), for the JIT
     * code at {@code unnamed}; returns the ask to wait for, or null when none was made.
     */
    CompletableFuture<Void> ask(int pid, PerfMapWriter writer, long[] unnamed) {
        settleAsk();
        long now = clock.getAsLong();
        if (refusal != null || pending != null || everAsked && now - askedAt < askInterval) {
            return null;
        }
        everAsked = true;
        askedAt = now;
        pendingFor = unnamed.clone();
        try {
            pending = writer.write(pid);
        } catch (RuntimeException e) {
            pending = CompletableFuture.failedFuture(e);
        }
        return pending;
    }

    /** Takes in an ask that has ended: its map read, or its refusal kept. Returns whether the names changed. */
    boolean settleAsk() {
        if (pending == null || !pending.isDone()) {
            return false;
        }
        CompletableFuture<Void> ended = pending;
        pending = null;
        try {
            ended.join();
        } catch (CompletionException | CancellationException e) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            refusal = cause.getMessage() != null ? cause.getMessage() : cause.toString();
            return false;
        }
        boolean changed = readIfChanged();
        if (read == null) {
            refusal = "it wrote no perf map at " + file + " that we could read";
            return false;
        }
        boolean namedAny = false;
        for (long address : pendingFor) {
            namedAny |= map.resolve(address) != null;
        }
        askInterval = namedAny ? FIRST_ASK_INTERVAL_NANOS : Math.min(askInterval * 2, LONGEST_ASK_INTERVAL_NANOS);
        return changed;
    }

    /** Why the process cannot be asked for a map, once an ask failed; empty until then. */
    Optional<String> refusal() {
        return Optional.ofNullable(refusal);
    }
}
