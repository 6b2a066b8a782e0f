package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Chromium;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.ReportPages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --html} on a JVM, as users run it: the launcher on the product jar guards a Java program
 * whose two event loops block in three ways, loads its agent into it, and the page, opened in a
 * real headless Chromium, draws the Java frames that blocked beside the native and kernel ones.
 * Runs after packaging: the command line loads the agent from its own jar. Its screenshot,
 * target/html-report/jvm-session.png, is the one in the README (docs/html-report.png).
 */
@KernelTest
class HtmlReportIT {
    private static final Path LAUNCHER = Path.of("eventloop-guardian").toAbsolutePath();
    /**
     * Two event loops: loop-1 sleeps in its handler and reads a silent socket, loop-2 parks awaiting
     * replies. Each block lasts 100 ms or more: the JVM takes a Java stack about 20 ms after the
     * switch-out (docs/architecture.md), and a block much shorter often gets none.
     */
    private static final String PROGRAM = """
            import java.io.IOException;
            import java.io.UncheckedIOException;
            import java.net.ServerSocket;
            import java.net.Socket;
            import java.net.SocketTimeoutException;
            import java.util.concurrent.locks.LockSupport;

            public class BlockingLoops {
                public static void main(String[] args) throws Exception {
                    try (ServerSocket server = new ServerSocket(0);
                         Socket client = new Socket("127.0.0.1", server.getLocalPort());
                         Socket silent = server.accept()) {
                        silent.setSoTimeout(120);
                        Thread.sleep(500); // the agent links back first
                        Thread first = Thread.ofPlatform().name("loop-1").start(() -> serve(silent));
                        Thread second = Thread.ofPlatform().name("loop-2").start(BlockingLoops::awaitReplies);
                        first.join();
                        second.join();
                    }
                    // Alive while the guardian asks it for the last sleeps' Java stacks and its JIT frames' names.
                    Thread.sleep(1_500);
                    System.out.println("done");
                }

                static void serve(Socket silent) {
                    for (int request = 0; request < 6; request++) {
                        if (request % 3 == 0) {
                            readConfiguration(silent);
                        } else {
                            sleepInHandler();
                        }
                    }
                }

                static void sleepInHandler() {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }

                static void readConfiguration(Socket silent) {
                    try {
                        silent.getInputStream().read();
                    } catch (SocketTimeoutException expected) {
                        // nothing came: the loop blocked for the whole timeout
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }

                static void awaitReplies() {
                    for (int reply = 0; reply < 5; reply++) {
                        LockSupport.parkNanos(120_000_000);
                    }
                }
            }
            """;

    @Test
    void aJvmsPageDrawsItsJavaFramesBesideTheNativeAndKernelOnes(@TempDir Path scratch) throws Exception {
        Path classes = Files.createDirectories(scratch.resolve("classes"));
        Path source = Files.writeString(scratch.resolve("BlockingLoops.java"), PROGRAM);
        assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), source.toString()))
                .as("javac BlockingLoops.java").isZero();
        Path page = scratch.resolve("report.html");
        Process guardian = new ProcessBuilder(LAUNCHER.toString(), "--report", "--all-threads", "--threads", "loop-*",
                "--html", page.toString(), "--output", scratch.resolve("events.txt").toString(),
                ProcessHandle.current().info().command().orElseThrow(), "-cp", classes.toString(), "BlockingLoops")
                .redirectErrorStream(true).start();
        String output = new String(guardian.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(guardian.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(guardian.exitValue()).as(output).isZero();
        assertThat(output).contains("done", "futex (sleep)", "futex (park)", "poll");

        try (Chromium chromium = Chromium.start(scratch, 1400, 1000)) {
            ReportPages.Drawn drawn = ReportPages.check(chromium, page, "jvm-session");
            // A JVM's answer comes within 500 ms of the sleep or not at all (a loaded machine loses some):
            // the program's own frames are asked of some of its stacks, not all.
            assertThat(drawn.frames()).as(output)
                    .contains("futex (sleep)", "futex (park)", "poll")
                    .anySatisfy(frame -> assertThat(frame)
                            .matches("BlockingLoops\\.(sleepInHandler|readConfiguration|awaitReplies)"))
                    .anySatisfy(frame -> assertThat(frame).endsWith(" (libc.so.6)"))
                    .contains("schedule");
            assertThat(drawn.tableRows()).anySatisfy(row -> assertThat(row).startsWith("loop-1 (tid "))
                    .anySatisfy(row -> assertThat(row).startsWith("loop-2 (tid "));
        }
    }
}
