package dev.eventloopguardian.jvm;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Vert.x's event loops: its threads ({@code io.vertx.core.impl.VertxThread}, whatever their names)
 * that are not workers. That is {@code vert.x-eventloop-thread-N} and the acceptor loops
 * {@code vert.x-acceptor-thread-N}, which are Netty event loops as well; not the worker pools
 * ({@code vert.x-worker-thread-N}, {@code vert.x-internal-blocking-N}, named worker executors), and
 * not the blocked-thread checker, a {@code java.util.Timer} thread.
 *
 * <p>Every Vert.x thread, event loop or worker, is made by a {@code VertxThreadFactory}, which an
 * application may replace and which may name threads as it likes, but whose threads must be
 * {@code VertxThread}s; the class and its flag are therefore the test, not the names. The flag is
 * read through {@code VertxThread.isWorker()}, public in Vert.x 3, 4 and 5. Vert.x 5 does not
 * export {@code io.vertx.core.impl} from its module, so where it runs on the module path that call
 * is refused; there Netty's {@code FastThreadLocalThread.permitBlockingCalls()} answers, from an
 * exported package: Netty documents it as false for event loops, and Vert.x 5's {@code VertxThread}
 * overrides it to return the same flag (Vert.x 4 does not, which is why it is not asked first).
 */
public final class VertxEventLoops implements EventLoopThreads {
    private static final String VERTX_THREAD = "io.vertx.core.impl.VertxThread";
    private static final String NETTY_THREAD = "io.netty.util.concurrent.FastThreadLocalThread";

    @Override
    public String framework() {
        return "Vert.x";
    }

    @Override
    public boolean isEventLoop(Thread thread) {
        Class<?> vertxThread = superclassNamed(thread.getClass(), VERTX_THREAD);
        if (vertxThread == null) {
            return false;
        }
        try {
            return !ask(thread, vertxThread, "isWorker");
        } catch (IllegalAccessException moduleDoesNotExportImpl) {
            Class<?> nettyThread = superclassNamed(vertxThread, NETTY_THREAD);
            try {
                return nettyThread != null && !ask(thread, nettyThread, "permitBlockingCalls");
            } catch (IllegalAccessException | RuntimeException e) {
                return false; // a Vert.x we cannot read: guarding a worker would report its legitimate blocking
            }
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean ask(Thread thread, Class<?> declaring, String method) throws IllegalAccessException {
        try {
            Method query = declaring.getMethod(method);
            return (boolean) query.invoke(thread);
        } catch (NoSuchMethodException | InvocationTargetException | ClassCastException | NullPointerException e) {
            throw new IllegalStateException(declaring.getName() + "." + method + "() cannot be asked", e);
        }
    }

    /** {@code type} or the superclass of it named {@code name}, or null: by name, so that Vert.x need not be on our class path. */
    private static Class<?> superclassNamed(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(name)) {
                return c;
            }
        }
        return null;
    }
}
