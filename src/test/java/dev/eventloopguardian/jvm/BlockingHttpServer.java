package dev.eventloopguardian.jvm;

import dev.eventloopguardian.testing.NativeSleep;
import dev.eventloopguardian.testing.PageCache;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * A real HTTP server on 127.0.0.1, Vert.x 5 or Netty 4.2, one event loop, whose handlers block the loop in
 * each way a handler can: {@code /sleep}, {@code /future}, {@code /monitor} (after
 * {@code /hold-lock}), {@code /wait}, {@code /socket-read}, {@code /native-sleep}, {@code /fifo}
 * (a writer opens it later), {@code /disk-read} (a file dropped from the page cache, see
 * {@link #prepareUncachedFile}), and {@code /allocate}, which only allocates. Each handler
 * has a method of its own, for the frame a test looks for on the Java stack.
 *
 * <p>Run in-process by the tests that guard it from inside, or as a program of its own
 * ({@link #main}: arguments vertx|netty SCRATCH_DIRECTORY; prints {@code port N}, serves until
 * its stdin closes) by the tests that guard it from the command line, unmodified. Vert.x names its
 * loop {@code vert.x-eventloop-thread-0}, Netty's here {@value NettyHttpServer#LOOP_NAME}-1-1.
 */
public final class BlockingHttpServer implements AutoCloseable {
    enum Framework { VERTX, NETTY }

    /**
     * How long each handler blocks: the Java stack is taken when the event is read, some ms after
     * the switch-out, so a block must outlast that by far for the handler's frame to be on it.
     */
    static final Duration BLOCK = Duration.ofMillis(250);

    private final Object contendedLock = new Object();
    private final Object waitedOnMonitor = new Object();
    private final AtomicLong allocatingRequestsServed = new AtomicLong();
    private final Vertx vertx;
    private final HttpServer vertxServer;
    private final NettyHttpServer nettyServer;
    private final ServerSocket silentServer;
    private final Socket silentSocket;
    private final Path fifo;
    private final Path uncachedFile;

    /** Starts the server; {@code scratch} must be on a disk (not a tmpfs), for the disk read. */
    BlockingHttpServer(Framework framework, Path scratch) throws Exception {
        this.fifo = scratch.resolve("fifo");
        this.uncachedFile = scratch.resolve("uncached");
        Map<String, Supplier<String>> routes = routes();
        if (framework == Framework.VERTX) {
            // One event loop: every request runs on vert.x-eventloop-thread-0.
            vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
            vertxServer = vertx.createHttpServer().requestHandler(request -> {
                Supplier<String> route = routes.get(request.path());
                if (route == null) {
                    request.response().setStatusCode(404).end();
                } else {
                    request.response().end(route.get());
                }
            }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
            nettyServer = null;
        } else {
            vertx = null;
            vertxServer = null;
            nettyServer = NettyHttpServer.start(routes);
        }
        silentServer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        silentSocket = new Socket(InetAddress.getLoopbackAddress(), silentServer.getLocalPort()); // never accepted, never written to
    }

    /** Serves until stdin closes: {@code java ... BlockingHttpServer vertx|netty SCRATCH}. */
    public static void main(String[] args) throws Exception {
        Framework framework = Framework.valueOf(args[0].toUpperCase(java.util.Locale.ROOT));
        try (BlockingHttpServer server = new BlockingHttpServer(framework, Path.of(args[1]))) {
            System.out.println("port " + server.port());
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
    }

    int port() {
        return vertxServer != null ? vertxServer.actualPort() : nettyServer.uri("/").getPort();
    }

    Path fifo() {
        return fifo;
    }

    long allocatingRequestsServed() {
        return allocatingRequestsServed.get();
    }

    @Override
    public void close() throws Exception {
        silentSocket.close();
        silentServer.close();
        if (vertx != null) {
            vertx.close().await(10, TimeUnit.SECONDS);
        } else {
            nettyServer.close();
        }
        Files.deleteIfExists(fifo);
        Files.deleteIfExists(uncachedFile);
    }

    private Map<String, Supplier<String>> routes() {
        Map<String, Supplier<String>> routes = new HashMap<>();
        routes.put("/sleep", BlockingHttpServer::sleepInHandler);
        routes.put("/future", BlockingHttpServer::awaitIncompleteFutureInHandler);
        routes.put("/hold-lock", this::holdTheContendedLockElsewhere);
        routes.put("/monitor", this::enterContendedMonitorInHandler);
        routes.put("/wait", this::waitInHandler);
        routes.put("/socket-read", this::readSilentSocketInHandler);
        routes.put("/native-sleep", BlockingHttpServer::sleepNativelyInHandler);
        routes.put("/fifo", this::openFifoInHandler);
        routes.put("/disk-read", this::readUncachedFileInHandler);
        routes.put("/allocate", this::allocateInHandler);
        return routes;
    }

    // The handlers, on the event loop. Each has a name of its own, for the frame a test looks for.

    private static String sleepInHandler() {
        try {
            Thread.sleep(BLOCK);
            return "slept";
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String awaitIncompleteFutureInHandler() {
        try {
            return new CompletableFuture<String>().get(BLOCK.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return "timed out";
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Another thread of this server takes the lock {@code /monitor} wants and holds it for twice
     * {@link #BLOCK}; the loop does not wait for it to be taken (that would be a park of its own):
     * the client leaves it a moment.
     */
    private String holdTheContendedLockElsewhere() {
        Thread.ofPlatform().name("lock-holder").start(() -> {
            synchronized (contendedLock) {
                LockSupport.parkNanos(2 * BLOCK.toNanos());
            }
        });
        return "holding";
    }

    private String enterContendedMonitorInHandler() {
        synchronized (contendedLock) {
            return "entered";
        }
    }

    private String waitInHandler() {
        synchronized (waitedOnMonitor) {
            try {
                waitedOnMonitor.wait(BLOCK.toMillis());
                return "waited";
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private String readSilentSocketInHandler() {
        try {
            silentSocket.setSoTimeout((int) BLOCK.toMillis());
            return "read " + silentSocket.getInputStream().read();
        } catch (SocketTimeoutException e) {
            return "timed out";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An FFM downcall: the thread sleeps in clock_nanosleep, where the JVM knows nothing of it. */
    private static String sleepNativelyInHandler() {
        NativeSleep.usleep(BLOCK.toNanos() / 1_000);
        return "slept natively";
    }

    private String openFifoInHandler() {
        try {
            return Files.readString(fifo); // the open sleeps until a writer opens the other end
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String readUncachedFileInHandler() {
        try {
            return "read " + Files.readAllBytes(uncachedFile).length + " bytes";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A megabyte in 1 KB arrays, all reachable until the response: garbage, but no blocking. At
     * 600 to 1,100 requests a second here, that was a young GC every 250 to 300 requests.
     */
    private String allocateInHandler() {
        List<byte[]> chunks = new ArrayList<>(1024);
        long checksum = 0;
        for (int i = 0; i < 1024; i++) {
            byte[] chunk = new byte[1024];
            chunk[i] = (byte) i;
            chunks.add(chunk);
        }
        for (byte[] chunk : chunks) {
            checksum += chunk.length;
        }
        allocatingRequestsServed.incrementAndGet();
        return "allocated " + checksum + " bytes";
    }

    // What a client does around some requests, so that they block. Static: the client may be another JVM.

    /** GET {@code path} on {@code port}; its body, after checking it is a 200. */
    static String get(HttpClient client, int port, String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build();
        try {
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(path + ": status " + response.statusCode() + ": " + response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code /monitor} while another thread of the server holds the lock it wants. */
    static String getWhileTheServerHoldsTheContendedLock(HttpClient client, int port) throws InterruptedException {
        get(client, port, "/hold-lock");
        Thread.sleep(BLOCK.toMillis() / 5); // the holder takes the lock meanwhile
        return get(client, port, "/monitor");
    }

    /** {@code /fifo}, with a writer opening {@code fifo} twice {@link #BLOCK} after the request is sent. */
    static String getWithAFifoWriterComingLater(HttpClient client, int port, Path fifo) throws Exception {
        if (new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor() != 0) {
            throw new IllegalStateException("mkfifo " + fifo + " failed");
        }
        Thread writer = Thread.ofPlatform().name("fifo-writer").start(() -> {
            try {
                Thread.sleep(2 * BLOCK.toMillis());
                Files.writeString(fifo, "written late");
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        String body = get(client, port, "/fifo");
        writer.join();
        Files.deleteIfExists(fifo);
        return body;
    }

    /**
     * A file the disk-read handler must wait for the disk for: 128 MB (about 130 ms at this VM's
     * 1 GB/s), written and synced so that its pages are clean, then dropped from the page cache
     * with {@code posix_fadvise(POSIX_FADV_DONTNEED)} for this file alone (drop_caches would empty
     * the whole machine's cache). Returns whether {@code fincore} confirms nothing of it is cached.
     */
    static boolean prepareUncachedFile(Path scratch) throws Exception {
        Path uncachedFile = scratch.resolve("uncached");
        byte[] megabyte = new byte[1 << 20];
        new java.util.Random(9).nextBytes(megabyte);
        try (var channel = java.nio.channels.FileChannel.open(uncachedFile, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE)) {
            for (int i = 0; i < 128; i++) {
                channel.write(java.nio.ByteBuffer.wrap(megabyte));
            }
            channel.force(true);
        }
        PageCache.drop(uncachedFile);
        long resident = PageCache.residentBytes(uncachedFile);
        System.out.println("uncached file: " + resident + " of 128 MB in the page cache before the request");
        return resident == 0;
    }
}
