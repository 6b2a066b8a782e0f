package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.JavaWait;
import dev.eventloopguardian.guard.JavaWaitStates;
import dev.eventloopguardian.guard.ThreadSwitches;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The agent's side of a JVM guarded by the command line: the command line holds the guard (it
 * has the privileges; this JVM may run as anybody), and this JVM says which of its threads to
 * classify and where their waits show, then answers each of its events with the Java thread that
 * blocked and its stack ({@link LinkProtocol}). It ends when the command line closes the socket
 * (it detached, or exited), and leaves nothing running behind.
 */
final class GuardianLink implements AutoCloseable {
    /** How often to look for new threads to register: the agent cannot see threads start. */
    private static final Duration WATCH_INTERVAL = Duration.ofMillis(50);
    /** Thread dumps that map tids to threads of our own asking, at most one per this interval. */
    private static final Duration DUMP_INTERVAL = Duration.ofMillis(100);

    private final SocketChannel channel;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final List<StackTraceElement> exemptions = new ArrayList<>();
    private final GuardedThreads threads;
    private final Thread answering;
    private Map<Integer, Thread> dumpedTids = Map.of();
    private long lastDumpNanos;
    private volatile boolean closed;

    private GuardianLink(SocketChannel channel, HotSpotThreads hotSpot) throws IOException {
        this.channel = channel;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel)));
        this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel)));
        JavaWaitStates states = hotSpot.javaWaitStates();
        synchronized (out) {
            out.writeByte(LinkProtocol.HELLO);
            out.writeInt(LinkProtocol.VERSION);
            out.writeInt((int) ProcessHandle.current().pid());
            out.writeInt(states.monitorWait());
            out.writeInt(states.condvarWait());
            out.writeInt(states.objectWait());
            out.writeUTF(Runtime.version().toString());
            out.flush();
        }
        if (in.readByte() != LinkProtocol.CONFIG) {
            throw new IOException("the command line did not answer hello with its configuration");
        }
        List<Predicate<Thread>> selectors = CommandLineThreads.selectors(LinkProtocol.readStrings(in, 64), exemptions);
        this.threads = new GuardedThreads(new Registration(hotSpot), selectors, WATCH_INTERVAL);
        this.answering = Thread.ofPlatform().daemon().name("eventloop-guardian-link").unstarted(this::answer);
    }

    /**
     * Connects to the command line listening on {@code socket}, registers the threads it asks for
     * as they appear, and answers its questions until it goes.
     */
    static GuardianLink connect(Path socket) throws IOException {
        HotSpotThreads hotSpot = HotSpotThreads.ofThisJvm();
        // The first stack and the first thread dump of a JVM take a quarter of a second (its
        // management starts): taken now, not while a thread waits for its stack to be taken.
        Blocker.warmUp();
        NativeThreadIds.byJavaId();
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            GuardianLink link = new GuardianLink(channel, hotSpot);
            link.answering.start();
            link.threads.startWatching();
            return link;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Registers and forgets threads with the command line's guard, which classifies their waits. */
    private final class Registration implements GuardedThreads.Binding {
        private final HotSpotThreads hotSpot;

        Registration(HotSpotThreads hotSpot) {
            this.hotSpot = hotSpot;
        }

        @Override
        public Runnable bind(Thread thread, int tid) {
            try {
                synchronized (out) {
                    out.writeByte(LinkProtocol.THREAD);
                    out.writeInt(tid);
                    LinkProtocol.writeWaits(out, hotSpot.waitsOf(tid));
                    out.flush();
                }
            } catch (IOException e) {
                throw new GuardianException("cannot register " + thread + " with eventloop-guardian: " + e.getMessage(), e);
            }
            return () -> {
                try {
                    synchronized (out) {
                        out.writeByte(LinkProtocol.GONE);
                        out.writeInt(tid);
                        out.flush();
                    }
                } catch (IOException e) {
                    // the command line has gone, and its guard with it
                }
            };
        }

        @Override
        public void close() {
            // the guard is the command line's
        }
    }

    /** Answers the command line's questions until it closes the socket, then ends the link. */
    private void answer() {
        try {
            while (!closed) {
                byte tag = in.readByte();
                if (tag != LinkProtocol.ASK) {
                    throw new IOException("unexpected message " + tag);
                }
                long request = in.readLong();
                int tid = in.readInt();
                long switches = in.readLong();
                int kind = in.readInt();
                Optional<Thread> thread = javaThread(tid);
                Optional<Blocker> blocker = thread.flatMap(known -> whoBlocked(known, tid, switches, kind));
                synchronized (out) {
                    out.writeByte(LinkProtocol.ANSWER);
                    out.writeLong(request);
                    writeAnswer(thread.isPresent(), blocker);
                    out.flush();
                }
            }
        } catch (EOFException gone) {
            // the command line detached or exited
        } catch (IOException e) {
            // the same, abruptly: there is nobody to tell
        }
        close();
    }

    /** The Java thread running {@code tid}: one we registered, or one a thread dump names. */
    private Optional<Thread> javaThread(int tid) {
        return threads.threadOf(tid).or(() -> Optional.ofNullable(dumpedThread(tid)));
    }

    /** Who made {@code thread} sleep; empty when the sleep is no blocking call. */
    private Optional<Blocker> whoBlocked(Thread thread, int tid, long switches, int kind) {
        BlockingCall.Kind callKind = BlockingCall.Kind.of(JavaWait.ofCode(kind));
        int pid = (int) ProcessHandle.current().pid();
        return Blocker.of(thread, callKind, () -> switches != 0 && ThreadSwitches.of(pid, tid).orElse(-1) == switches,
                thread.getName()).filter(blocker -> !Blocker.isInside(blocker.stack(), exemptions));
    }

    /** The answer's body: whether the thread is a Java thread we know, then whether and who blocked. */
    private void writeAnswer(boolean known, Optional<Blocker> blocker) throws IOException {
        out.writeBoolean(known);
        if (!known) {
            return;
        }
        out.writeBoolean(blocker.isPresent());
        if (blocker.isEmpty()) {
            return;
        }
        Blocker who = blocker.get();
        out.writeUTF(who.name());
        out.writeLong(who.javaId());
        out.writeBoolean(who.virtual());
        out.writeBoolean(who.afterWake());
        List<StackTraceElement> stack = who.stack();
        LinkProtocol.writeStrings(out, stack.subList(0, Math.min(stack.size(), LinkProtocol.MAX_FRAMES)).stream()
                .map(StackTraceElement::toString).toList());
    }

    /**
     * The Java thread running {@code tid}, from a thread dump (not more often than
     * {@link #DUMP_INTERVAL}); null when it is none.
     */
    private Thread dumpedThread(int tid) {
        Thread known = dumpedTids.get(tid);
        if ((known == null || !known.isAlive()) && System.nanoTime() - lastDumpNanos > DUMP_INTERVAL.toNanos()) {
            lastDumpNanos = System.nanoTime();
            Map<Long, Integer> tids = NativeThreadIds.byJavaId();
            Map<Integer, Thread> byTid = new HashMap<>();
            for (Thread thread : GuardedThreads.platformThreads()) {
                Integer threadTid = tids.get(thread.threadId());
                if (threadTid != null) {
                    byTid.put(threadTid, thread);
                }
            }
            dumpedTids = byTid;
            known = byTid.get(tid);
        }
        return known;
    }

    /** Ends the link: stops registering, and closes the socket; the command line forgets our threads. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        threads.close();
        try {
            channel.close();
        } catch (IOException e) {
            // closed is closed
        }
        if (Thread.currentThread() != answering) {
            try {
                answering.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    boolean isClosed() {
        return closed;
    }
}
