package dev.eventloopguardian.jvm;

import io.vertx.core.Vertx;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A JVM with Vert.x 5 on the module path, where {@code io.vertx.core.impl} is not exported:
 * prints whether {@code VertxThread.isWorker()} may be called and what {@link VertxEventLoops}
 * says of an event loop and a worker. For a test that runs it.
 */
public final class VertxModulePathProbe {
    private VertxModulePathProbe() {
    }

    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            CompletableFuture<Thread> eventLoop = new CompletableFuture<>();
            vertx.runOnContext(unused -> eventLoop.complete(Thread.currentThread()));
            CompletableFuture<Thread> worker = new CompletableFuture<>();
            vertx.executeBlocking(() -> worker.complete(Thread.currentThread()));
            Thread loopThread = eventLoop.get(10, TimeUnit.SECONDS);
            Thread workerThread = worker.get(10, TimeUnit.SECONDS);
            System.out.println("vert.x in " + vertx.getClass().getModule());
            try {
                loopThread.getClass().getMethod("isWorker").invoke(loopThread);
                System.out.println("isWorker: callable");
            } catch (IllegalAccessException e) {
                System.out.println("isWorker: refused");
            }
            VertxEventLoops vertxEventLoops = new VertxEventLoops();
            System.out.println("event loop " + loopThread.getName() + ": " + vertxEventLoops.isEventLoop(loopThread));
            System.out.println("event loop " + workerThread.getName() + ": " + vertxEventLoops.isEventLoop(workerThread));
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }
}
