package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.JavaThreadWaits;
import dev.eventloopguardian.guard.JavaWait;
import dev.eventloopguardian.guard.JavaWaitStates;
import dev.eventloopguardian.report.JavaContext;
import dev.eventloopguardian.report.JavaContexts;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import jdk.net.UnixDomainPrincipal;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * The command line's side of the JVMs it guards: a Unix socket the agent in each of them
 * connects to ({@code -javaagent:JAR=link=SOCKET}, put there through {@code JAVA_TOOL_OPTIONS} or
 * the Attach API). Each JVM registers the threads whose Java-level waits the guard should tell
 * apart, and answers, for each event of its threads, with the Java thread that blocked and its
 * stack ({@link LinkProtocol}). The guard stays the command line's: a JVM needs no privileges.
 *
 * <p>Only the processes the session guards may link ({@code admits}), and only as the user they
 * run as (the socket's peer credentials): a process of the same user could ptrace the JVM anyway,
 * so it learns nothing it could not, and it can register no thread of another process.
 */
public final class JvmLinks implements JavaContexts, AutoCloseable {
    /** Questions in flight to one JVM at most: past that, events are written without a Java stack. */
    private static final int MAX_IN_FLIGHT = 64;
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(1);

    private final Guard guard;
    private final JavaWaitStates states;
    private final List<String> globs;
    private final IntPredicate admits;
    private final Consumer<String> notes;
    private final Path directory;
    private final Path socket;
    private final ServerSocketChannel server;
    private final Thread accepting;
    private final Map<Integer, Link> byPid = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private volatile boolean closed;

    private JvmLinks(Guard guard, JavaWaitStates states, List<String> globs, IntPredicate admits, Consumer<String> notes,
                     Path directory, ServerSocketChannel server) {
        this.guard = guard;
        this.states = states;
        this.globs = List.copyOf(globs);
        this.admits = admits;
        this.notes = notes;
        this.directory = directory;
        this.socket = directory.resolve("agent.sock");
        this.server = server;
        this.accepting = Thread.ofPlatform().daemon().name("eventloop-guardian-jvm-links").unstarted(this::accept);
    }

    /**
     * How HotSpot numbers the wait states the guard program compares with ({@code enum
     * ThreadState} in osThread.hpp: MONITOR_WAIT 3, CONDVAR_WAIT 4, OBJECT_WAIT 5, unchanged since
     * JDK 6). A guard that links JVMs is loaded with them ({@code Policy.Builder.countJavaWaits})
     * before any JVM has linked; each JVM says at hello how it numbers them, from its own
     * VMStructs, and one that numbers them otherwise has its threads left unclassified. Constants,
     * not this JVM's VMStructs: reading those costs every report session's launch tens of ms.
     */
    public static final JavaWaitStates HOTSPOT_WAIT_STATES = new JavaWaitStates(3, 4, 5);

    /**
     * Listens for the agents of the processes {@code admits} accepts, on a socket in a new
     * directory under {@code /tmp} that any user can reach but not list. {@code guard} must count
     * Java waits with {@code states}; {@code globs} are the session's {@code --threads} (none: the
     * agents pick the event loops they know); {@code notes} hears what happens to each JVM.
     */
    public static JvmLinks listen(Guard guard, JavaWaitStates states, List<String> globs, IntPredicate admits,
                                  Consumer<String> notes) throws IOException {
        Path directory = Files.createTempDirectory("eventloop-guardian-");
        ServerSocketChannel server = null;
        try {
            // Others may pass through to the socket (a JVM run with --user), not list what is here.
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx--x--x"));
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            Path socket = directory.resolve("agent.sock");
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            JvmLinks links = new JvmLinks(guard, states, globs, admits, notes, directory, server);
            links.accepting.start();
            return links;
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            deleteQuietly(directory.resolve("agent.sock"));
            deleteQuietly(directory);
            throw e;
        }
    }

    /** The agent's options that link a JVM here: {@code link=SOCKET}. */
    public String agentOptions() {
        return LinkProtocol.LINK_OPTION + socket;
    }

    private void accept() {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread.ofPlatform().daemon().name("eventloop-guardian-jvm-link").start(() -> serve(channel));
        }
    }

    /** One JVM's link, from its hello to its end. */
    private void serve(SocketChannel channel) {
        Link link = null;
        try (channel) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel)));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel)));
            link = hello(channel, in, out);
            if (link == null) {
                return;
            }
            while (!closed) {
                byte tag = in.readByte();
                switch (tag) {
                    case LinkProtocol.THREAD -> register(link, in.readInt(), LinkProtocol.readWaits(in));
                    case LinkProtocol.GONE -> forget(link, in.readInt());
                    case LinkProtocol.ANSWER -> answered(link, in);
                    default -> throw new IOException("unexpected message " + tag);
                }
            }
        } catch (EOFException ended) {
            // the JVM exited, or its agent ended the link
        } catch (IOException | GuardException | RuntimeException e) {
            if (!closed) {
                notes.accept("the link to " + (link == null ? "a JVM" : "JVM pid " + link.pid) + " broke (" + e.getMessage()
                        + "); its events go on without Java stacks");
            }
        } finally {
            if (link != null) {
                end(link);
            }
        }
    }

    /** Reads a JVM's hello and answers it; null when the JVM may not link. */
    private Link hello(SocketChannel channel, DataInputStream in, DataOutputStream out) throws IOException {
        if (in.readByte() != LinkProtocol.HELLO || in.readInt() != LinkProtocol.VERSION) {
            notes.accept("a JVM's agent speaks another version of the link: is it another eventloop-guardian's jar?");
            return null;
        }
        int pid = in.readInt();
        JavaWaitStates theirs = new JavaWaitStates(in.readInt(), in.readInt(), in.readInt());
        String javaVersion = in.readUTF();
        if (!admits.test(pid) || !runsAs(channel, pid)) {
            notes.accept("refused a link from pid " + pid + ": not a process this session guards, or not its user");
            return null;
        }
        Link link = new Link(pid, out, theirs.equals(states));
        synchronized (out) {
            out.writeByte(LinkProtocol.CONFIG);
            LinkProtocol.writeStrings(out, globs);
            out.flush();
        }
        byPid.put(pid, link);
        notes.accept("JVM pid " + pid + " (Java " + javaVersion + ") linked: " + (link.classifies
                ? "Java-level waits are told apart, and events carry Java stacks"
                : "its wait states are numbered unlike ours, so only its events' Java stacks are known"));
        return link;
    }

    /** Whether the peer runs as the user who owns process {@code pid}. */
    private static boolean runsAs(SocketChannel channel, int pid) {
        try {
            UnixDomainPrincipal peer = channel.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
            return peer.user().getName().equals(Files.getOwner(Path.of("/proc", Integer.toString(pid))).getName());
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private void register(Link link, int tid, JavaThreadWaits waits) throws GuardException {
        if (!link.classifies || !Files.isDirectory(Path.of("/proc", Integer.toString(link.pid), "task", Integer.toString(tid)))) {
            return; // not its thread (any more): it may register only its own
        }
        guard.watchJavaThread(tid, waits);
        link.tids.add(tid);
    }

    private void forget(Link link, int tid) throws GuardException {
        if (link.tids.remove(tid)) {
            guard.forgetJavaThread(tid);
        }
    }

    private void answered(Link link, DataInputStream in) throws IOException {
        long request = in.readLong();
        Optional<JavaContext> context = Optional.empty();
        if (in.readBoolean()) {
            if (in.readBoolean()) {
                String name = in.readUTF();
                long javaId = in.readLong();
                boolean virtual = in.readBoolean();
                boolean afterWake = in.readBoolean();
                context = Optional.of(new JavaContext(true, name, javaId, virtual, LinkProtocol.readStrings(in, LinkProtocol.MAX_FRAMES),
                        afterWake));
            } else {
                context = Optional.of(JavaContext.notBlocking());
            }
        }
        CompletableFuture<Optional<JavaContext>> asked = link.inFlight.remove(request);
        if (asked != null) {
            asked.complete(context);
        }
    }

    /** A JVM has gone: its threads are forgotten, and what was asked of it is answered with nothing. */
    private void end(Link link) {
        byPid.remove(link.pid, link);
        for (int tid : link.tids) {
            try {
                guard.forgetJavaThread(tid);
            } catch (GuardException | IllegalStateException e) {
                // the guard is closing
            }
        }
        link.tids.clear();
        link.inFlight.values().forEach(asked -> asked.complete(Optional.empty()));
        link.inFlight.clear();
    }

    @Override
    public CompletableFuture<Optional<JavaContext>> ask(BlockingEvent event) {
        Link link = byPid.get(event.pid());
        if (link == null || link.inFlight.size() >= MAX_IN_FLIGHT) {
            return NO_ANSWER;
        }
        long request = requests.incrementAndGet();
        CompletableFuture<Optional<JavaContext>> answer = new CompletableFuture<>();
        link.inFlight.put(request, answer);
        answer.completeOnTimeout(Optional.empty(), ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((context, failure) -> link.inFlight.remove(request));
        try {
            synchronized (link.out) {
                link.out.writeByte(LinkProtocol.ASK);
                link.out.writeLong(request);
                link.out.writeInt(event.tid());
                link.out.writeLong(event.switches());
                link.out.writeInt(event.javaWait().map(JavaWait::code).orElse(0));
                link.out.flush();
            }
        } catch (IOException e) {
            answer.complete(Optional.empty()); // it has gone; its reader ends the link
        }
        return answer;
    }

    /** Stops listening; each linked JVM sees the socket close, forgets its link and runs on. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closed is closed
        }
        try {
            accepting.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Link link : byPid.values()) {
            try {
                link.out.close(); // closes the channel: its reader sees the end and forgets the JVM's threads
            } catch (IOException e) {
                // gone already
            }
            end(link);
        }
        deleteQuietly(socket);
        deleteQuietly(directory);
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // a leftover in /tmp, which tmpfiles cleans
        }
    }

    /** A JVM that has said hello. */
    private static final class Link {
        final int pid;
        final DataOutputStream out;
        final boolean classifies;
        final Set<Integer> tids = ConcurrentHashMap.newKeySet();
        final Map<Long, CompletableFuture<Optional<JavaContext>>> inFlight = new ConcurrentHashMap<>();

        Link(int pid, DataOutputStream out, boolean classifies) {
            this.pid = pid;
            this.out = out;
            this.classifies = classifies;
        }
    }
}
