package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The examples of the article eventloop-guardian comes from, run verbatim against the
 * machine's real python3 (network ones on loopback: these machines have no other network).
 */
@KernelTest
class SeedExamplesTest {
    private static final int SIGABRT = 6;
    private static final String PYTHON = Python.executable();

    @Test
    void timeSleepAborts() {
        Guardian.Result result = guardian().run(PYTHON, "-c", "import time; time.sleep(0.1)");
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
    }

    @Test
    void abortDumpsCoreWithTheBlockingCallOnTheStack(@TempDir Path directory) throws Exception {
        String corePattern = Files.readString(Path.of("/proc/sys/kernel/core_pattern")).strip();
        Guardian.Result result = guardian().in(directory)
                .prefix("prlimit", "--core=unlimited", "--")
                .run(PYTHON, "-c", "import time; time.sleep(0.1)");
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
        if (!corePattern.startsWith("|") && !corePattern.contains("/")) {
            // A plain pattern writes the core into the working directory: the process stayed dumpable.
            try (var files = Files.list(directory)) {
                assertThat(files.map(p -> p.getFileName().toString())).anyMatch(name -> name.startsWith("core"));
            }
        }
    }

    @Test
    void blockingSocketConnectAborts() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> queued = fillAcceptQueue(server);
            try {
                Guardian.Result result = guardian().run(PYTHON, "-c",
                        "from socket import socket; s = socket(); s.connect(('127.0.0.1', " + server.getLocalPort() + "))");
                assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
            } finally {
                for (Socket socket : queued) {
                    socket.close();
                }
            }
        }
    }

    /** A listener whose accept queue is full drops new SYNs, so a blocking connect must sleep. */
    private static List<Socket> fillAcceptQueue(ServerSocket server) {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 300);
                sockets.add(socket);
            } catch (IOException full) {
                closeQuietly(socket);
                break;
            }
        }
        return sockets;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to clean up
        }
    }

    @Test
    void replOnATerminalAborts() throws IOException {
        Path harness = Files.createTempFile("pty_run", ".py");
        try (var in = SeedExamplesTest.class.getResourceAsStream("/pty_run.py")) {
            Files.write(harness, in.readAllBytes());
        }
        List<String> command = new ArrayList<>(List.of(PYTHON, harness.toString()));
        command.addAll(Guardian.javaCommand(List.of(PYTHON)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        String output;
        try {
            Process process = builder.start();
            output = new String(process.getInputStream().readAllBytes());
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            Files.deleteIfExists(harness);
        }
        assertThat(output).contains(">>> ").contains("STATUS signal 6");
    }

    @Test
    void asyncioSleepRunsClean() {
        Guardian.Result result = guardian().run(PYTHON, "-c", "import asyncio; asyncio.run(asyncio.sleep(1))");
        assertThat(result.status()).as(result.toString()).isZero();
    }

    @Test
    void asyncioOpenConnectionRunsClean() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Guardian.Result result = guardian().run(PYTHON, "-c",
                    "import asyncio; asyncio.run(asyncio.open_connection('127.0.0.1', " + server.getLocalPort() + "))");
            assertThat(result.status()).as(result.toString()).isZero();
        }
    }

    @Test
    void asyncioToThreadSleepRunsClean() {
        Guardian.Result result = guardian().run(PYTHON, "-c",
                "import asyncio, time; asyncio.run(asyncio.to_thread(lambda: time.sleep(0.1)))");
        assertThat(result.status()).as(result.toString()).isZero();
    }
}
