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
 * the newest lines are read, those in the last {@link #MAX_BYTES} and of them the last
 * {@link #MAX_LINES}, so that a huge map costs bounded memory. Like perf, it is read only as a
 * regular file (not through a symbolic link; a FIFO would block the open) owned by root or the
 * process's user, since anyone may create files in {@code /tmp}; and only when written since the
 * process started.
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

    /** Clock ticks a second in {@code /proc/PID/stat}: USER_HZ, 100 on every architecture Linux runs on today. */
    private static final int USER_HZ = 100;

    private final Path file;
    private final IntPredicate mayOwn;
    private final FileTime notBefore;
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
     * The perf map at {@code file}, read only when owned by a uid {@code mayOwn} accepts and
     * written at {@code notBefore} or later; {@code clock} gives nanoseconds, as {@link System#nanoTime}.
     */
    PerfMapFile(Path file, IntPredicate mayOwn, FileTime notBefore, LongSupplier clock) {
        this(file, mayOwn, notBefore, clock, MAX_BYTES, MAX_LINES);
    }

    /** With other bounds than {@link #MAX_BYTES} and {@link #MAX_LINES}, for tests. */
    PerfMapFile(Path file, IntPredicate mayOwn, FileTime notBefore, LongSupplier clock, int maxBytes, int maxLines) {
        this.file = file;
        this.mayOwn = mayOwn;
        this.notBefore = notBefore;
        this.clock = clock;
        this.maxBytes = maxBytes;
        this.maxLines = maxLines;
    }

    /**
     * The perf map of the process at {@code proc} ({@code /proc/PID}): {@code /tmp/perf-N.map}
     * under its own root, N being its pid as it sees it, owned by root or one of its uids, and
     * written since the process started: a map left by an earlier process with the same pid (perf
     * maps outlive their JVMs) would name the wrong code. Empty when the process is gone.
     */
    static Optional<PerfMapFile> of(Path proc) {
        return ProcessStatus.read(proc).map(status -> of(proc, status, started(proc), System::nanoTime));
    }

    static PerfMapFile of(Path proc, ProcessStatus status, FileTime started, LongSupplier clock) {
        return new PerfMapFile(proc.resolve("root").resolve("tmp").resolve("perf-" + status.namespacePid() + ".map"),
                uid -> uid == 0 || status.uids().contains(uid), started, clock);
    }

    /**
     * When the process at {@code proc} started, to the second below (the boot time is in whole
     * seconds); the epoch when that cannot be read, which lets any map through.
     */
    static FileTime started(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"));
            // The fields after the command name, which may hold spaces and parentheses; starttime is field 22.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[22 - 3]);
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("btime ")) {
                    long bootSeconds = Long.parseLong(line.substring("btime ".length()).strip());
                    return FileTime.fromMillis((bootSeconds - 1) * 1_000 + ticks * 1_000 / USER_HZ);
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process is gone, or the kernel says it differently: no limit
        }
        return FileTime.fromMillis(0);
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
            FileTime modified = (FileTime) attributes.get("lastModifiedTime");
            if (!(Boolean) attributes.get("isRegularFile") || !mayOwn.test((Integer) attributes.get("uid"))
                    || modified.compareTo(notBefore) < 0) {
                return null;
            }
            return new Identity(attributes.get("ino"), (Long) attributes.get("size"), modified);
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
