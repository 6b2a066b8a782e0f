package bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import reactor.blockhound.BlockHound;

/**
 * The server that bench/end-to-end/http.sh loads with wrk: Vert.x answering on 127.0.0.1 from
 * its event-loop threads ({@code vert.x-eventloop-thread-N}, {@code vert.x-eventloo} to the
 * kernel).
 *
 * <ul>
 *   <li>{@code GET /}: "hello", never blocks; the endpoint that is benchmarked.
 *   <li>{@code GET /sleep}: {@code Thread.sleep(20)} on the event loop. A JVM sleeps in futex,
 *       so a syscall guard with futex allowed does not see it; BlockHound does.
 *   <li>{@code GET /read}: a blocking read of a pipe on the event loop, written 20 ms later by
 *       another thread: the thread sleeps in {@code read(2)}, which the guard's default policy
 *       does not allow.
 * </ul>
 *
 * <p>Arguments: {@code --event-loops N} (default 2, one per core here), {@code --blockhound}
 * to install BlockHound with the event-loop threads as its non-blocking threads. Prints
 * {@code listening on 127.0.0.1:PORT} once every event loop listens (the port is picked by the
 * kernel, so runs beside other work never collide).
 */
public final class HelloServer {
    private static final Buffer HELLO = Buffer.buffer("hello\n");
    private static final CharSequence TEXT_PLAIN = HttpHeaders.createOptimized("text/plain");
    private static final ScheduledExecutorService PIPE_WRITER = Executors.newSingleThreadScheduledExecutor(
            task -> Thread.ofPlatform().daemon().name("pipe-writer").unstarted(task));

    public static void main(String[] args) throws Exception {
        int eventLoops = 2;
        boolean blockHound = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--event-loops" -> eventLoops = Integer.parseInt(args[++i]);
                case "--blockhound" -> blockHound = true;
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        if (blockHound) {
            // Netty's own integration (found through META-INF/services) is loaded as well; naming
            // the event loops here makes the set of checked threads the same as the guard's.
            BlockHound.builder()
                    .nonBlockingThreadPredicate(current -> current.or(
                            thread -> thread.getName().startsWith("vert.x-eventloop-thread-")))
                    .install();
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops));
        // One verticle per event loop, all listening on port -1: Vert.x binds one socket on a
        // port the kernel picks and deals its connections out to the event loops in turn.
        await(vertx.deployVerticle(Hello::new, new DeploymentOptions().setInstances(eventLoops)));
        int port = Hello.boundPort;
        System.out.println("listening on 127.0.0.1:" + port + (blockHound ? " (BlockHound installed)" : ""));
        System.out.flush();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static final class Hello extends VerticleBase {
        static volatile int boundPort;

        @Override
        public Future<?> start() {
            return vertx.createHttpServer()
                    .requestHandler(Hello::handle)
                    .listen(-1, "127.0.0.1")
                    .map(server -> boundPort = server.actualPort());
        }

        private static void handle(HttpServerRequest request) {
            try {
                switch (request.path()) {
                    case "/sleep" -> Thread.sleep(20);
                    case "/read" -> blockingPipeRead();
                    default -> { }
                }
                request.response().putHeader(HttpHeaders.CONTENT_TYPE, TEXT_PLAIN).end(HELLO);
            } catch (Throwable e) {
                // BlockHound's BlockingOperationError lands here: answer with it, so that the
                // script can tell from the response which tool saw the blocking call.
                request.response().setStatusCode(500).end(e + "\n");
            }
        }

        private static void blockingPipeRead() throws Exception {
            Pipe pipe = Pipe.open();
            try (var source = pipe.source(); var sink = pipe.sink()) {
                PIPE_WRITER.schedule(() -> sink.write(ByteBuffer.wrap(new byte[] {1})), 20, TimeUnit.MILLISECONDS);
                // A pipe channel is in blocking mode by default: on a platform thread this is a
                // read(2) that sleeps in the kernel until the byte arrives.
                source.read(ByteBuffer.allocate(1));
            }
        }
    }
}
