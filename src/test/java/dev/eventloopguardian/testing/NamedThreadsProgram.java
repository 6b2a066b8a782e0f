package dev.eventloopguardian.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A JVM target for the guard: threads named as Vert.x names its event loops and workers each
 * block once in a pipe read (read(2) on a descriptor above 2, which the default policy counts),
 * until the main thread writes to their pipe. Prints "done" when every thread has read.
 *
 * <p>Run it as {@code java -cp CLASSPATH dev.eventloopguardian.testing.NamedThreadsProgram [--await-line] NAME...}.
 * With {@code --await-line} the threads are started, it prints "ready" and the reads wait for a line on stdin:
 * a target for attach.
 */
public final class NamedThreadsProgram {
    /** The first argument that makes the reads wait for a line on stdin. */
    public static final String AWAIT_LINE = "--await-line";

    private NamedThreadsProgram() {
    }

    public static void main(String[] arguments) throws Exception {
        boolean awaitLine = arguments.length > 0 && arguments[0].equals(AWAIT_LINE);
        List<String> names = List.of(arguments).subList(awaitLine ? 1 : 0, arguments.length);
        CountDownLatch go = new CountDownLatch(1);
        List<Pipe> pipes = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (String name : names) {
            Pipe pipe = Pipe.open();
            pipes.add(pipe);
            threads.add(Thread.ofPlatform().name(name).start(() -> {
                try {
                    go.await(); // a futex wait, which the default policy allows
                    pipe.source().read(ByteBuffer.allocate(1));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        if (awaitLine) {
            System.out.println("ready");
            new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        }
        go.countDown();
        Thread.sleep(300); // every reader is asleep in read(2) by now
        for (Pipe pipe : pipes) {
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        System.out.println("done");
    }

    /** The command that runs this program with {@code names}, on the JVM running the tests. */
    public static List<String> command(String... names) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-XX:+UseSerialGC", "-XX:-UsePerfData", "-cp", System.getProperty("java.class.path"),
                NamedThreadsProgram.class.getName()));
        command.addAll(List.of(names));
        return command;
    }
}
