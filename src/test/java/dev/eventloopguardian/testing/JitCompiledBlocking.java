package dev.eventloopguardian.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A JVM whose thread blocks in a JIT-compiled Java method: {@link #waitForInput} calls
 * {@code poll(NULL, 0, timeout)} through FFM. The thread first calls it {@value #WARM_UP_CALLS}
 * times with a timeout of 0 (which returns at once, without sleeping), so that the method is
 * compiled, and {@code -Xbatch} makes the thread wait for each compilation; then it prints
 * "ready", and calls it {@code COUNT} times with {@code MILLIS}, a poll that sleeps. It prints
 * "done" and exits after the last.
 *
 * <p>Run it as {@code java ... JitCompiledBlocking [--await-line] THREAD COUNT MILLIS}
 * ({@link #command}); with {@code --await-line} the sleeping polls wait for a line on stdin.
 */
public final class JitCompiledBlocking {
    /** The method as HotSpot names it in its perf map. */
    public static final String METHOD = "int " + JitCompiledBlocking.class.getName() + ".waitForInput(int)";
    /** The first argument that makes the sleeping polls wait for a line on stdin. */
    public static final String AWAIT_LINE = "--await-line";
    private static final int WARM_UP_CALLS = 20_000;

    private JitCompiledBlocking() {
    }

    /** Bound only in the program's own JVM, not in one that merely builds its command. */
    private static final class Poll {
        static final MethodHandle POLL = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().findOrThrow("poll"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }

    /** A poll of no descriptors: it sleeps for {@code timeoutMillis}, in the kernel's {@code poll}. */
    static int waitForInput(int timeoutMillis) throws Throwable {
        return (int) Poll.POLL.invokeExact(MemorySegment.NULL, 0L, timeoutMillis);
    }

    public static void main(String[] arguments) throws Exception {
        boolean awaitLine = arguments[0].equals(AWAIT_LINE);
        int first = awaitLine ? 1 : 0;
        String thread = arguments[first];
        int count = Integer.parseInt(arguments[first + 1]);
        int millis = Integer.parseInt(arguments[first + 2]);
        CountDownLatch warm = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        Thread blocking = Thread.ofPlatform().name(thread).start(() -> {
            try {
                for (int i = 0; i < WARM_UP_CALLS; i++) {
                    waitForInput(0);
                }
                warm.countDown();
                go.await(); // a futex wait, which the default policy allows
                for (int i = 0; i < count; i++) {
                    waitForInput(millis);
                }
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
        warm.await();
        System.out.println("ready");
        if (awaitLine) {
            new BufferedReader(new InputStreamReader(System.in)).readLine();
        }
        go.countDown();
        blocking.join();
        System.out.println("done");
    }

    /** The command that runs this program on the JVM running the tests, with no Java agent and no options from the environment. */
    public static List<String> command(String... arguments) {
        return commandWithClassPath(System.getProperty("java.class.path"), arguments);
    }

    /** The same with another class path, such as a copy that another user can read. */
    public static List<String> commandWithClassPath(String classPath, String... arguments) {
        List<String> command = new ArrayList<>(List.of("env", "-u", "JAVA_TOOL_OPTIONS", "-u", "JDK_JAVA_OPTIONS",
                "-u", "_JAVA_OPTIONS", ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xbatch",
                // Its own frame, not inlined into the loop's: the stack then shows the method itself.
                "-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline," + JitCompiledBlocking.class.getName() + "::waitForInput",
                "-cp", classPath, JitCompiledBlocking.class.getName()));
        command.addAll(List.of(arguments));
        return command;
    }
}
