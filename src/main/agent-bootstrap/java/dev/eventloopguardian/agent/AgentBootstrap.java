package dev.eventloopguardian.agent;

import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;

/**
 * The class the product jar's manifest names as {@code Premain-Class} and {@code Agent-Class}.
 * Compiled for Java 8 and free of anything newer, because it is the one class of ours that every
 * JVM loading the jar as an agent loads: with {@code -javaagent:} in {@code JAVA_TOOL_OPTIONS},
 * that is every JVM a command starts, build tools on Java 8 to 17 among them. Such a JVM must run
 * on, as it would without the agent: loading one of our Java 25 classes there fails with
 * {@code UnsupportedClassVersionError}, and HotSpot then aborts the JVM.
 *
 * <p>On Java 25 or newer it hands over to {@link #AGENT_LAYER}, which starts the real agent
 * ({@code dev.eventloopguardian.jvm.Agent}) with the same arguments. On an older JVM it says so
 * on stderr, in one line, and returns; with {@code required=true} it stops the JVM with status 69
 * (EX_UNAVAILABLE) before {@code main}, by {@code System.exit} rather than by throwing, as the
 * agent does for its own failures: a {@code premain} that throws makes HotSpot abort with
 * {@code SIGABRT}, which would read as the guard's {@code action=abort}.
 */
public final class AgentBootstrap {
    /** The oldest Java whose JVM the agent runs in: the release our other classes are compiled for. */
    static final int OLDEST_JAVA = 25;
    /** The status of a required agent that this JVM is too old for: EX_UNAVAILABLE, as for a JVM that lacks something. */
    static final int TOO_OLD_STATUS = 69;
    /** The Java 25 class that loads and starts the agent; named, never referred to, so that no older JVM loads it. */
    static final String AGENT_LAYER = "dev.eventloopguardian.agent.AgentLayer";
    private static final String PREFIX = "eventloop-guardian agent: ";

    private AgentBootstrap() {
    }

    /** {@code -javaagent}: runs before {@code main}. */
    public static void premain(String arguments, Instrumentation instrumentation) throws Exception {
        String tooOld = tooOld();
        if (tooOld == null) {
            handOver("premain", arguments, instrumentation);
        } else if (asksRequired(arguments)) {
            System.err.println(PREFIX + tooOld + "; required=true, so the JVM stops");
            System.exit(TOO_OLD_STATUS);
        } else {
            System.err.println(PREFIX + "not guarding this JVM: " + tooOld
                    + " (the application runs unguarded; add required=true to stop it instead)");
        }
    }

    /** A load through the Attach API into a running JVM, which a required agent must not stop: the load fails instead. */
    public static void agentmain(String arguments, Instrumentation instrumentation) throws Exception {
        String tooOld = tooOld();
        if (tooOld == null) {
            handOver("agentmain", arguments, instrumentation);
            return;
        }
        System.err.println(PREFIX + "not guarding this JVM: " + tooOld);
        if (asksRequired(arguments)) {
            throw new IllegalStateException(PREFIX + tooOld);
        }
    }

    /** Why this JVM is too old for the agent, or null when it is not. */
    private static String tooOld() {
        int feature = featureVersion(System.getProperty("java.specification.version", ""));
        if (feature >= OLDEST_JAVA) {
            return null;
        }
        // java.home tells which JVM, where a command starts several with the agent in JAVA_TOOL_OPTIONS
        return "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.home")
                + ") is too old for the agent, which needs Java " + OLDEST_JAVA + " or newer";
    }

    /**
     * The feature release in {@code java.specification.version}: "1.8" up to Java 8, "9", "17",
     * "25" after. A value that does not read as either is taken for a new JVM (the agent is then
     * tried), since every release we know of follows the scheme.
     */
    static int featureVersion(String specificationVersion) {
        String feature = specificationVersion.startsWith("1.") ? specificationVersion.substring(2) : specificationVersion;
        int dot = feature.indexOf('.');
        try {
            return Integer.parseInt(dot < 0 ? feature : feature.substring(0, dot));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /**
     * Whether the agent's arguments ask for {@code required=true}: an option (between commas that
     * are not written {@code \,}) that starts with {@code required=} and is not
     * {@code required=false}. The same rule as the agent's own ({@code AgentOptions.asksRequired}),
     * which is a Java 25 class and cannot be used here.
     */
    static boolean asksRequired(String arguments) {
        if (arguments == null) {
            return false;
        }
        for (String option : arguments.split("(?<!\\\\),")) {
            if (option.startsWith("required=") && !option.equals("required=false")) {
                return true;
            }
        }
        return false;
    }

    /** Calls {@code entry} of {@link #AGENT_LAYER} as if the JVM had called it: what it throws is thrown from here. */
    private static void handOver(String entry, String arguments, Instrumentation instrumentation) throws Exception {
        try {
            Class.forName(AGENT_LAYER).getMethod(entry, String.class, Instrumentation.class)
                    .invoke(null, arguments, instrumentation);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) {
                throw (Exception) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw e;
        }
    }
}
