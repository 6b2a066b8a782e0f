package dev.eventloopguardian.jvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line on an unmodified JVM: a Vert.x or Netty server started as COMMAND (or running
 * already, for {@code attach}), whose handlers block its event loop in each way, hit by real HTTP
 * requests over loopback. The command line loads the agent into it by itself, and each blocking
 * call comes back in the one report, classified, with the handler's frame on its Java stack. Runs
 * after packaging: the command line loads the agent from its own jar.
 */
@KernelTest
class CommandLineOnAJvmIT {
    private static final Path LAUNCHER = Path.of("eventloop-guardian").toAbsolutePath();
    private static final Path PRODUCT_JAR = Path.of("target", "eventloop-guardian.jar").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Room for the disk read's 128 MB file. */
    private static final String SERVER_HEAP = "-Xmx512m";

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** A blocking call the report must have: its kind, syscalls, and the handler on its Java stack. */
    private record Expected(String kind, Set<String> syscalls, String handler) {
    }

    private static final Expected SLEEP = new Expected("sleep", Set.of("futex"), "sleepInHandler");
    private static final Expected FUTURE = new Expected("park", Set.of("futex"), "awaitIncompleteFutureInHandler");
    private static final Expected MONITOR = new Expected("monitor", Set.of("futex"), "enterContendedMonitorInHandler");
    private static final Expected WAIT = new Expected("wait", Set.of("futex"), "waitInHandler");
    private static final Expected SOCKET_READ = new Expected("syscall", Set.of("poll", "ppoll"), "readSilentSocketInHandler");
    private static final Expected NATIVE_SLEEP = new Expected("syscall", Set.of("clock_nanosleep", "nanosleep"), "sleepNativelyInHandler");
    private static final Expected FIFO_OPEN = new Expected("syscall", Set.of("openat", "open"), "openFifoInHandler");
    private static final Expected DISK_READ = new Expected("syscall", Set.of("read", "pread64"), "readUncachedFileInHandler");

    /** The server program, as a user would start it: java, its class path, its main class. No agent, no flag of ours. */
    private static List<String> server(BlockingHttpServer.Framework framework, String classPath, Path scratch) {
        return List.of(ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED",
                SERVER_HEAP, "-cp", classPath, BlockingHttpServer.class.getName(), framework.name(), scratch.toString());
    }

    /** This test's class path without the tool's own classes: the server does not bring the agent itself. */
    private static String serverClassPath() {
        return Stream.of(System.getProperty("java.class.path").split(":"))
                .filter(entry -> !entry.endsWith("target/classes") && !entry.contains("eventloop-guardian"))
                .reduce((a, b) -> a + ":" + b).orElseThrow();
    }

    private static String loopGlob(BlockingHttpServer.Framework framework) {
        return framework == BlockingHttpServer.Framework.VERTX ? "vert.x-eventloo*" : NettyHttpServer.LOOP_NAME + "*";
    }

    @ParameterizedTest
    @EnumSource(BlockingHttpServer.Framework.class)
    void eachWayAHandlerBlocksIsReportedWithTheHandlersFrame(BlockingHttpServer.Framework framework, @TempDir Path scratch)
            throws Exception {
        Path events = scratch.resolve("events.jsonl");
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString(), "--report", "--format", "json", "--output",
                events.toString(), "--all-threads", "--threads", loopGlob(framework), "--include-uninterruptible"));
        command.addAll(server(framework, serverClassPath(), scratch));
        boolean diskReadUncached = BlockingHttpServer.prepareUncachedFile(scratch);
        int[] beforeEachWay = new int[1];
        String notes = serve(command, scratch, port -> {
            beforeEachWay[0] = awaitClassifiedLoop(port, events);
            blockEachWay(port, scratch);
        });
        List<JsonNode> reported = read(events, beforeEachWay[0]);

        assertThat(notes).contains("linked: Java-level waits are told apart");
        SoftAssertions softly = new SoftAssertions();
        expectEachWay(softly, reported, diskReadUncached);
        softly.assertThat(notes).as("the summary counts Java-level waits apart").contains("futex (sleep)", "futex (park)");
        softly.assertAll();
    }

    /**
     * The same servers guarded by the Java agent alone, from inside (this test runs as root, so
     * the JVM may load the guard itself): the same calls, with the same frames, in the same schema.
     */
    @ParameterizedTest
    @EnumSource(BlockingHttpServer.Framework.class)
    void theAgentAloneReportsEachWayWithTheHandlersFrame(BlockingHttpServer.Framework framework, @TempDir Path scratch)
            throws Exception {
        Path events = scratch.resolve("events.jsonl");
        String loops = framework == BlockingHttpServer.Framework.VERTX ? "vert\\.x-eventloop-thread-.*"
                : NettyHttpServer.LOOP_NAME + "-.*";
        List<String> command = new ArrayList<>(server(framework, serverClassPath(), scratch));
        command.add(1, "-javaagent:" + PRODUCT_JAR + "=threads=" + loops + ",format=json,output=" + events + ",uninterruptible=true");
        boolean diskReadUncached = BlockingHttpServer.prepareUncachedFile(scratch);
        int[] beforeEachWay = new int[1];
        serve(command, scratch, port -> {
            beforeEachWay[0] = awaitClassifiedLoop(port, events);
            blockEachWay(port, scratch);
        });
        List<JsonNode> reported = read(events, beforeEachWay[0]);

        SoftAssertions softly = new SoftAssertions();
        expectEachWay(softly, reported, diskReadUncached);
        softly.assertAll();
    }

    /**
     * An allocation-heavy load on a small heap, many GCs: the loop waits for each GC it triggers,
     * in futexes of the VM's, and none is reported; a sleep afterwards is, so the guard was on.
     * A contended monitor is the one wait that may be: HotSpot marks a thread MONITOR_WAIT only
     * in ObjectMonitor's enter, and the guard counts it only on the thread's own park event, so
     * it is the loop waiting for a lock another thread holds, which a GC may have stopped (once in
     * six CI runs the loop waited 110 µs so under this load; its stack, taken after it woke, did
     * not say which lock). That is the loop sharing a lock, not the VM's own wait: it is left out
     * of the count here, and printed.
     */
    @Test
    void allocationHeavyLoadThroughManyGarbageCollectionsIsNeverReported(@TempDir Path scratch) throws Exception {
        Path events = scratch.resolve("events.jsonl");
        Path gcLog = scratch.resolve("gc.log");
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString(), "--report", "--format", "json", "--output",
                events.toString(), "--all-threads", "--threads", "vert.x-eventloo*"));
        List<String> server = new ArrayList<>(server(BlockingHttpServer.Framework.VERTX, serverClassPath(), scratch));
        int heap = server.indexOf(SERVER_HEAP);
        server.addAll(heap + 1, List.of("-Xmx64m", "-Xlog:gc:file=" + gcLog)); // a small heap, for many GCs: the last -Xmx wins
        command.addAll(server);
        long[] reportedUnderLoad = new long[1];
        serve(command, scratch, port -> {
            for (int i = 0; i < 200; i++) {
                BlockingHttpServer.get(client, port, "/allocate"); // connections made, handler compiled
            }
            Thread.sleep(1_500); // an event waits up to a second for its sleep's end
            // The loop's first requests may wait for monitors while classes load: real, and not the GCs'.
            long warmUpEvents = Files.exists(events) ? Files.readAllLines(events).size() : 0;
            long start = System.nanoTime();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                clients.add(Thread.ofPlatform().start(() -> {
                    while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4)) {
                        BlockingHttpServer.get(client, port, "/allocate");
                    }
                }));
            }
            for (Thread loadClient : clients) {
                loadClient.join();
            }
            Thread.sleep(1_500); // an event waits up to a second for its sleep's end
            List<String> lines = Files.exists(events) ? Files.readAllLines(events) : List.of();
            List<String> underLoad = lines.subList((int) Math.min(warmUpEvents, lines.size()), lines.size());
            underLoad.stream().filter(line -> line.contains("\"kind\":\"monitor\""))
                    .forEach(line -> System.out.println("a contended monitor under the load: " + line));
            reportedUnderLoad[0] = underLoad.stream().filter(line -> !line.contains("\"kind\":\"monitor\"")).count();
            BlockingHttpServer.get(client, port, "/sleep");
        });
        long gcs = Files.readAllLines(gcLog).stream().filter(line -> line.contains("Pause")).count();
        List<JsonNode> reported = read(events);

        System.out.printf("allocation-heavy load under the command line: %d GC pauses, %d events during the load%n", gcs,
                reportedUnderLoad[0]);
        assertThat(gcs).as("GC pauses during the run").isGreaterThanOrEqualTo(10);
        assertThat(reportedUnderLoad[0]).as("events under a load that never blocks but on a contended monitor: %s", reported)
                .isZero();
        assertThat(reported).as("the control request").anySatisfy(event -> assertThat(event.path("kind").asText()).isEqualTo("sleep"));
    }

    /**
     * The JVM runs as nobody, with no privilege at all: the root command line holds the guard and
     * the JVM's agent, linked to it, still tells its Java-level waits apart and gives its stacks.
     */
    @Test
    void aJvmRunAsAnUnprivilegedUserGetsTheSameReports(@TempDir Path scratch) throws Exception {
        // Copies that nobody can read: the checkout may lie where nobody cannot go.
        String classPath = Guardian.worldReadableCopy(scratch, serverClassPath());
        Path jar = Files.copy(PRODUCT_JAR, scratch.resolve("eventloop-guardian.jar"));
        Path events = scratch.resolve("events.jsonl");
        List<String> command = new ArrayList<>(Guardian.jarCommand(jar, List.of("--report", "--user", "nobody",
                "--format", "json", "--output", events.toString(), "--all-threads", "--threads", "vert.x-eventloo*")));
        command.addAll(server(BlockingHttpServer.Framework.VERTX, classPath, scratch));
        int[] beforeRequests = new int[1];
        String notes = serve(command, scratch, port -> {
            beforeRequests[0] = awaitClassifiedLoop(port, events);
            BlockingHttpServer.get(client, port, "/sleep");
            BlockingHttpServer.getWhileTheServerHoldsTheContendedLock(client, port);
            BlockingHttpServer.get(client, port, "/native-sleep");
        });
        List<JsonNode> reported = read(events, beforeRequests[0]);

        assertThat(notes).contains("linked: Java-level waits are told apart");
        SoftAssertions softly = new SoftAssertions();
        for (Expected expected : List.of(SLEEP, MONITOR, NATIVE_SLEEP)) {
            expect(softly, reported, expected);
        }
        softly.assertAll();
    }

    /** {@code attach --pid} on a server started without us: the agent goes in through the Attach API. */
    @Test
    void attachLoadsTheAgentIntoARunningJvm(@TempDir Path scratch) throws Exception {
        Process server = new ProcessBuilder(server(BlockingHttpServer.Framework.VERTX, serverClassPath(), scratch))
                .redirectError(scratch.resolve("server.err").toFile()).start();
        try {
            int port = awaitPort(server);
            Path events = scratch.resolve("events.jsonl");
            Process attach = new ProcessBuilder(LAUNCHER.toString(), "attach", "--pid", Long.toString(server.pid()),
                    "--format", "json", "--output", events.toString(), "--threads", "vert.x-eventloo*")
                    .redirectErrorStream(true).start();
            List<String> notes = new ArrayList<>();
            BufferedReader attachOutput = new BufferedReader(new InputStreamReader(attach.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = attachOutput.readLine()) != null && !line.contains("linked"); ) {
                notes.add(line);
            }
            int beforeRequests = awaitClassifiedLoop(port, events);
            BlockingHttpServer.get(client, port, "/sleep");
            BlockingHttpServer.get(client, port, "/native-sleep");
            Thread.sleep(1_500);
            new ProcessBuilder("kill", "-INT", Long.toString(attach.pid())).start().waitFor();
            String rest = new String(attach.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(attach.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(attach.exitValue()).as("%s%n%s", notes, rest).isZero();

            List<JsonNode> reported = read(events, beforeRequests);
            SoftAssertions softly = new SoftAssertions();
            expect(softly, reported, SLEEP);
            expect(softly, reported, NATIVE_SLEEP);
            softly.assertAll();
            assertThat(server.isAlive()).as("the server runs on after the detach").isTrue();
            BlockingHttpServer.get(client, port, "/sleep"); // and serves
        } finally {
            server.getOutputStream().close();
            server.waitFor(30, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
    }

    /**
     * The guard that aborts, on a JVM: with {@code --jvm-agent}, the JVM registers its threads in
     * the guard's map itself (inherited across exec; as nobody too, without privileges), and a
     * {@code Thread.sleep} on the loop aborts it; without the agent, a futex wait is allowed.
     */
    @Test
    void theGuardThatAbortsCatchesAJavaLevelSleepWithTheAgent(@TempDir Path scratch) throws Exception {
        String classPath = Guardian.worldReadableCopy(scratch, serverClassPath());
        Path jar = Files.copy(PRODUCT_JAR, scratch.resolve("eventloop-guardian.jar"));
        List<String> program = List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp", classPath,
                SleepingLoopProgram.class.getName());
        for (List<String> user : List.of(List.<String>of(), List.of("--user", "nobody"))) {
            GuardedRun withAgent = guardRun(jar, user, "--jvm-agent", program);
            assertThat(withAgent.status()).as("with the agent %s: %s", user, withAgent.output()).isEqualTo(134);
            assertThat(withAgent.output()).doesNotContain("survived");
        }
        GuardedRun withoutAgent = guardRun(jar, List.of(), "--no-jvm-agent", program);
        assertThat(withoutAgent.status()).as(withoutAgent.output()).isZero();
        assertThat(withoutAgent.output()).contains("survived");
    }

    private record GuardedRun(int status, String output) {
    }

    private static GuardedRun guardRun(Path jar, List<String> user, String agentOption, List<String> program) throws Exception {
        List<String> command = new ArrayList<>(List.of("prlimit", "--core=0", "--"));
        List<String> arguments = new ArrayList<>(user);
        arguments.addAll(List.of(agentOption, "--all-threads", "--threads", "loop-*"));
        command.addAll(Guardian.jarCommand(jar, arguments));
        command.addAll(program);
        Process run = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new GuardedRun(run.exitValue(), output);
    }

    private interface Requests {
        void send(int port) throws Exception;
    }

    /**
     * Runs {@code command} (the command line and the server under it), sends the requests once it
     * serves, then ends the server by closing its stdin; returns what the command line said on
     * stderr, echoed for the record.
     */
    private String serve(List<String> command, Path scratch, Requests requests) throws Exception {
        Path notes = scratch.resolve("notes.txt");
        Process guarded = new ProcessBuilder(command).redirectError(notes.toFile()).start();
        try (OutputStream stdin = guarded.getOutputStream()) {
            requests.send(awaitPort(guarded));
        } finally {
            assertThat(guarded.waitFor(60, TimeUnit.SECONDS)).as("the guarded server ended").isTrue();
        }
        String said = Files.readString(notes);
        said.lines().forEach(line -> System.out.println("stderr: " + line));
        assertThat(guarded.exitValue()).as(said).isZero();
        return said;
    }

    /** The server's port, from its first line: {@code port N}. */
    private static int awaitPort(Process server) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("the server's first line").isNotNull().startsWith("port ");
        return Integer.parseInt(line.substring("port ".length()));
    }

    private static List<JsonNode> read(Path events) throws IOException {
        return read(events, 0);
    }

    /** The events reported after the first {@code skipped} lines. */
    private static List<JsonNode> read(Path events, int skipped) throws IOException {
        List<JsonNode> nodes = new ArrayList<>();
        List<String> lines = Files.readAllLines(events);
        for (String line : lines.subList(Math.min(skipped, lines.size()), lines.size())) {
            JsonNode node = JSON.readTree(line);
            if (node.path("schema").asText().startsWith("eventloop-guardian/blocking-event/")) {
                nodes.add(node);
                System.out.println("reported: " + node.path("thread").asText() + " " + node.path("kind").asText() + " in "
                        + node.path("syscall").asText() + " " + node.path("java_stack").path(0).asText("(no java stack)"));
            }
        }
        return nodes;
    }

    /**
     * Sends {@code /sleep} until one comes back in the report as a Java-level sleep, and returns
     * how many lines the report has then. The agent finds a new thread within 50 ms of its start
     * (it cannot see threads start), and the loop starts with the server: a request sent at once
     * can sleep before its thread is classified, and goes unreported, as the README says.
     */
    private int awaitClassifiedLoop(int port, Path events) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            BlockingHttpServer.get(client, port, "/sleep");
            for (int look = 0; look < 10; look++) {
                List<String> lines = Files.exists(events) ? Files.readAllLines(events) : List.of();
                for (String line : lines) {
                    if (line.endsWith("}") && JSON.readTree(line).path("kind").asText().equals("sleep")) {
                        return lines.size();
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("no sleep of the loop was reported in 20 s: its thread was never classified");
    }

    /** Each request that blocks the server's loop its own way (the disk read needs {@link BlockingHttpServer#prepareUncachedFile}). */
    private void blockEachWay(int port, Path scratch) throws Exception {
        BlockingHttpServer.get(client, port, "/sleep");
        BlockingHttpServer.get(client, port, "/future");
        BlockingHttpServer.getWhileTheServerHoldsTheContendedLock(client, port);
        BlockingHttpServer.get(client, port, "/wait");
        BlockingHttpServer.get(client, port, "/socket-read");
        BlockingHttpServer.get(client, port, "/native-sleep");
        BlockingHttpServer.getWithAFifoWriterComingLater(client, port, scratch.resolve("fifo"));
        BlockingHttpServer.get(client, port, "/disk-read");
    }

    /** Each way of {@link #blockEachWay} reported, with its handler's frame; the disk read when its file was uncached. */
    private static void expectEachWay(SoftAssertions softly, List<JsonNode> reported, boolean diskReadUncached) {
        for (Expected expected : List.of(SLEEP, FUTURE, MONITOR, WAIT, SOCKET_READ, NATIVE_SLEEP, FIFO_OPEN)) {
            expect(softly, reported, expected);
        }
        if (diskReadUncached) {
            expect(softly, reported, DISK_READ);
        } else {
            System.out.println("disk read not checked: the file could not be dropped from the page cache");
        }
    }

    private static void expect(SoftAssertions softly, List<JsonNode> reported, Expected expected) {
        softly.assertThat(reported).as("a %s in %s with %s on its Java stack", expected.kind(), expected.syscalls(),
                expected.handler()).anySatisfy(event -> {
                    assertThat(event.path("kind").asText()).isEqualTo(expected.kind());
                    assertThat(expected.syscalls()).contains(event.path("syscall").asText());
                    assertThat(event.path("java_stack")).anySatisfy(frame ->
                            assertThat(frame.asText()).contains("." + expected.handler() + "("));
                });
    }
}
