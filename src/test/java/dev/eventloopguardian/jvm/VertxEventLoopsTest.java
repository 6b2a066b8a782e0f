package dev.eventloopguardian.jvm;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.impl.VertxThread;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Which threads of a real Vert.x 5 instance {@link VertxEventLoops} calls event loops. */
class VertxEventLoopsTest {
    private final VertxEventLoops vertxEventLoops = new VertxEventLoops();
    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));

    @AfterEach
    void closeVertx() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void itsEventLoopsAreEventLoops() throws Exception {
        Thread eventLoop = threadOf(task -> vertx.runOnContext(unused -> task.run()));
        assertThat(eventLoop.getName()).startsWith("vert.x-eventloop-thread-");
        assertThat(vertxEventLoops.isEventLoop(eventLoop)).isTrue();
    }

    @Test
    void itsWorkersAreNot() throws Exception {
        Thread worker = threadOf(task -> vertx.executeBlocking(() -> {
            task.run();
            return null;
        }));
        assertThat(worker.getName()).startsWith("vert.x-worker-thread-");
        assertThat(vertxEventLoops.isEventLoop(worker)).isFalse();
    }

    /** A worker verticle runs on the worker pool, though it has a context of its own like a loop's. */
    @Test
    void aWorkerVerticlesThreadIsNot() throws Exception {
        CompletableFuture<Thread> started = new CompletableFuture<>();
        vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                started.complete(Thread.currentThread());
                return Future.succeededFuture();
            }
        }, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).await(10, TimeUnit.SECONDS);
        Thread worker = started.get(10, TimeUnit.SECONDS);
        assertThat(worker).isInstanceOf(VertxThread.class);
        assertThat(vertxEventLoops.isEventLoop(worker)).isFalse();
    }

    @Test
    void itsBlockedThreadCheckerAndOtherThreadsAreNot() throws Exception {
        threadOf(task -> vertx.runOnContext(unused -> task.run())); // the instance is up
        Thread checker = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().equals("vertx-blocked-thread-checker")).findFirst().orElseThrow();
        assertThat(vertxEventLoops.isEventLoop(checker)).isFalse();
        assertThat(vertxEventLoops.isEventLoop(Thread.currentThread())).isFalse();
        assertThat(vertxEventLoops.isEventLoop(new io.netty.util.concurrent.FastThreadLocalThread())).isFalse();
    }

    /** A thread factory may name Vert.x's threads as it likes: the class and its flag decide. */
    @Test
    void namesDoNotDecide() {
        assertThat(vertxEventLoops.isEventLoop(new VertxThread(() -> {
        }, "my-loop", false, 2, TimeUnit.SECONDS))).isTrue();
        assertThat(vertxEventLoops.isEventLoop(new VertxThread(() -> {
        }, "vert.x-eventloop-thread-9", true, 2, TimeUnit.SECONDS))).isFalse();
    }

    @Test
    void theServiceLoaderFindsIt() {
        assertThat(ServiceLoader.load(EventLoopThreads.class).stream().map(provider -> provider.get().framework()))
                .contains("Vert.x");
    }

    /**
     * Vert.x 5 is a named module that does not export {@code io.vertx.core.impl}: there
     * {@code isWorker()} cannot be called, and Netty's {@code permitBlockingCalls()} must tell.
     * Its jars and Netty's and jackson-core go on the module path of a JVM of its own.
     */
    @Test
    void onTheModulePathWhereVertxHidesItsThreadClassWorkersAreStillTold() throws Exception {
        List<String> classPath = List.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator));
        String modulePath = classPath.stream().filter(entry -> entry.matches(".*/(vertx-|netty-|jackson-core-)[^/]*\\.jar"))
                .collect(Collectors.joining(java.io.File.pathSeparator));
        String ours = classPath.stream().filter(entry -> !entry.endsWith(".jar")).collect(Collectors.joining(java.io.File.pathSeparator));
        Process probe = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "--module-path", modulePath, "--add-modules", "io.vertx.core",
                "-cp", ours, VertxModulePathProbe.class.getName()).redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(output).contains("vert.x in module io.vertx.core", "isWorker: refused",
                "event loop vert.x-eventloop-thread-0: true", "event loop vert.x-worker-thread-0: false");
    }

    /** The thread that {@code submit} runs a task on. */
    private static Thread threadOf(java.util.function.Consumer<Runnable> submit) throws Exception {
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        submit.accept(() -> ranOn.complete(Thread.currentThread()));
        return ranOn.get(10, TimeUnit.SECONDS);
    }
}
