package dev.eventloopguardian.jvm;

import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.text.IoReason;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The Java agent: {@code java -javaagent:eventloop-guardian.jar=threads=REGEX,... -jar app.jar}
 * guards the threads whose names match, as they appear, with no change to the application
 * ({@link AgentOptions} has the options). Loaded later through the Attach API, {@link #agentmain}
 * does the same in a running JVM.
 *
 * <p>An agent that cannot guard (bad options, no {@code CAP_BPF}/{@code CAP_PERFMON}, an output
 * it cannot open) says why on stderr, once, and lets the application run unguarded: a guard is a
 * diagnostic, and an application that ran yesterday should not fail to start because a machine
 * lacks a capability. With {@code required=true} it stops the JVM instead, before {@code main},
 * with that line and a sysexits status ({@link #exitStatusOf}) rather than by throwing: a throwing
 * {@code premain} makes HotSpot abort with a native stack trace and {@code SIGABRT}, which would
 * look like the guard's own {@code action=abort}. A late load cannot stop a running JVM, so there
 * {@code required=true} fails the load, which the attaching tool reports.
 *
 * <p>This is the one class of the library that prints, and only to stderr: like the command line,
 * it is where a user meets the tool, and the user asked for it on the JVM's command line.
 */
public final class Agent {
    private static final String PREFIX = "eventloop-guardian agent: ";
    /**
     * How often the agent looks for new threads to guard. The agent cannot see threads start, so a
     * thread runs unguarded until the next look; the library's second would miss every blocking
     * call an event loop makes while it starts up.
     */
    private static final Duration WATCH_INTERVAL = Duration.ofMillis(50);

    /** Why the agent is not guarding, and the status a required agent stops the JVM with. */
    record Failure(String reason, int exitStatus) {
    }

    /** The guardian this JVM's agent installed: loads after the first are ignored. */
    private static EventLoopGuardian installed;
    /** This JVM's link to the command line that guards it, when it loaded the agent. */
    private static GuardianLink linked;
    /** The guard {@code eventloop-guardian COMMAND} handed this JVM across exec, when it did. */
    private static InheritedGuard inherited;

    private Agent() {
    }

    /** {@code -javaagent}: runs before {@code main}. */
    public static void premain(String arguments, Instrumentation instrumentation) {
        start(arguments).ifPresent(failure -> {
            if (AgentOptions.asksRequired(arguments)) {
                System.err.println(PREFIX + failure.reason() + "; required=true, so the JVM stops");
                System.exit(failure.exitStatus());
            }
            if (isHandedOver(arguments)) {
                System.err.println(PREFIX + failure.reason()); // eventloop-guardian guards the JVM all the same
                return;
            }
            System.err.println(PREFIX + "not guarding this JVM: " + failure.reason()
                    + " (the application runs unguarded; add required=true to stop it instead)");
        });
    }

    /** A load through the Attach API into a running JVM. */
    public static void agentmain(String arguments, Instrumentation instrumentation) {
        start(arguments).ifPresent(failure -> {
            System.err.println(PREFIX + (isHandedOver(arguments) ? "" : "not guarding this JVM: ") + failure.reason());
            if (AgentOptions.asksRequired(arguments)) {
                throw new IllegalStateException(PREFIX + failure.reason());
            }
        });
    }

    /** Whether the command line loaded the agent, for a JVM it guards itself: options of its own. */
    private static boolean isHandedOver(String arguments) {
        return arguments != null && (arguments.startsWith(LinkProtocol.LINK_OPTION) || arguments.startsWith(InheritedGuard.OPTION));
    }

    /** Installs the guardian the options ask for; empty when it is in place. */
    static synchronized Optional<Failure> start(String arguments) {
        if (arguments != null && arguments.startsWith(LinkProtocol.LINK_OPTION)) {
            return link(Path.of(arguments.substring(LinkProtocol.LINK_OPTION.length())));
        }
        if (arguments != null && arguments.startsWith(InheritedGuard.OPTION)) {
            return takeOverInheritedGuard(arguments);
        }
        if (installed != null) {
            System.err.println(PREFIX + "this JVM is guarded already; this load (" + arguments + ") is ignored");
            return Optional.empty();
        }
        AgentOptions options;
        try {
            options = AgentOptions.parse(arguments);
        } catch (IllegalArgumentException e) {
            return Optional.of(new Failure(e.getMessage(), 64));
        }
        Writer out;
        try {
            out = options.output().isPresent() ? openForAppending(options.output().get())
                    : new OutputStreamWriter(System.err, System.err.charset());
        } catch (IOException e) {
            return Optional.of(new Failure("cannot open output=" + options.output().get() + ": " + IoReason.of(e), 73));
        }
        try {
            installed = install(options, out);
        } catch (GuardianException e) {
            closeQuietly(out, options);
            return Optional.of(new Failure(e.getMessage(), exitStatusOf(e)));
        } catch (RuntimeException | LinkageError e) {
            closeQuietly(out, options);
            return Optional.of(new Failure("internal error, please report it: " + e, 70));
        }
        EventLoopGuardian guardian = installed;
        // The last calls wait up to a second for the end of their sleep: passed on at exit, not lost.
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("eventloop-guardian-agent-exit").unstarted(() -> {
            guardian.close();
            closeQuietly(out, options);
        }));
        return Optional.empty();
    }

    /**
     * Links this JVM to the eventloop-guardian command line that loaded the agent (through
     * JAVA_TOOL_OPTIONS, or the Attach API), which guards it. A later link, after the command line
     * detached, replaces an ended one.
     */
    private static Optional<Failure> link(Path socket) {
        if (linked != null && !linked.isClosed()) {
            System.err.println(PREFIX + "this JVM is linked to eventloop-guardian already; this load is ignored");
            return Optional.empty();
        }
        try {
            linked = GuardianLink.connect(socket);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(new Failure("cannot reach eventloop-guardian at " + socket + ": " + IoReason.of(e)
                    + "; it guards this JVM without Java stacks and Java-level waits", 69));
        } catch (GuardianException e) {
            return Optional.of(new Failure(e.getMessage() + "; eventloop-guardian guards this JVM without Java stacks and "
                    + "Java-level waits", 69));
        }
    }

    /**
     * Registers this JVM's threads in the guard {@code eventloop-guardian COMMAND} handed over
     * across exec, so that their Java-level waits count.
     */
    private static Optional<Failure> takeOverInheritedGuard(String arguments) {
        if (inherited != null) {
            return Optional.empty(); // one JVM, one map: a second load is the same hand-over
        }
        try {
            inherited = InheritedGuard.start(arguments);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(new Failure(e.getMessage(), 64));
        } catch (GuardianException e) {
            return Optional.of(new Failure(e.getMessage() + "; the guard goes on without Java-level waits", 69));
        }
    }

    private static EventLoopGuardian install(AgentOptions options, Writer out) {
        String destination = options.output().map(Path::toString).orElse("stderr");
        Consumer<BlockingCall> sink = options.format() == AgentOptions.Format.JSON ? BlockingCallSinks.jsonLines(out)
                : BlockingCallSinks.text(out);
        EventLoopGuardian.Builder builder = EventLoopGuardian.builder()
                .threadsNamed(options.threads().pattern())
                .onBlockingCall(new SaysOnce(sink, destination))
                .watchInterval(WATCH_INTERVAL);
        if (options.jfr()) {
            builder.onBlockingCall(BlockingCallSinks.jfr());
        }
        if (options.abort()) {
            builder.abortOnBlockingCall();
        }
        if (options.uninterruptible()) {
            builder.includeUninterruptible();
        }
        return builder.install();
    }

    private static Writer openForAppending(Path file) throws IOException {
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
    }

    private static void closeQuietly(Writer out, AgentOptions options) {
        try {
            if (options.output().isPresent()) {
                out.close();
            } else {
                out.flush(); // stderr stays open: it is the application's
            }
        } catch (IOException e) {
            // the sink has said so already, or nothing was written
        }
    }

    /** The command line's statuses (sysexits): 77 without the privileges, 69 when the kernel or JVM lacks something. */
    static int exitStatusOf(GuardianException failure) {
        for (Throwable cause = failure.getCause(); cause != null; cause = cause.getCause()) {
            if (cause instanceof GuardException guard && guard.kind() == GuardException.Kind.PERMISSION) {
                return 77;
            }
        }
        return 69;
    }

    /**
     * A sink whose first failed write is said on stderr, once, and whose later calls are dropped:
     * a full disk must not fill the application's stderr with one complaint per blocking call.
     */
    private static final class SaysOnce implements Consumer<BlockingCall> {
        private final Consumer<BlockingCall> sink;
        private final String destination;
        private volatile boolean failed;

        SaysOnce(Consumer<BlockingCall> sink, String destination) {
            this.sink = sink;
            this.destination = destination;
        }

        @Override
        public void accept(BlockingCall call) {
            if (failed) {
                return;
            }
            try {
                sink.accept(call);
            } catch (UncheckedIOException e) {
                failed = true;
                System.err.println(PREFIX + "cannot write blocking calls to " + destination + ": " + IoReason.of(e.getCause())
                        + "; the next ones are dropped");
            }
        }
    }
}
