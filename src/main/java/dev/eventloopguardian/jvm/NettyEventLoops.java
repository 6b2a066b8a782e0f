package dev.eventloopguardian.jvm;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Netty's threads that must not block, by the rule Netty gives BlockHound
 * ({@code io.netty.util.internal.Hidden.NettyBlockHoundIntegration}, Netty 4.1 and 4.2): a
 * {@code io.netty.util.concurrent.FastThreadLocalThread} whose {@code permitBlockingCalls()} is
 * false. Netty's {@code DefaultThreadFactory} makes every event loop's thread one (NIO, epoll,
 * io_uring, the 4.2 {@code MultiThreadIoEventLoopGroup}), and also the threads of its timers and
 * non-I/O executors, which Netty holds to the same rule. A subclass that overrides the method to
 * return true says it may block, and is left alone.
 *
 * <p>Vert.x's threads are Netty threads too ({@code VertxThread} extends {@code FastThreadLocalThread}):
 * its event loops match, as they should; its worker threads, which may block and do not override
 * {@code permitBlockingCalls()}, are told apart by {@code VertxThread.isWorker()}.
 *
 * <p>Netty is looked at through class names and reflection only, so that nothing here needs it at
 * compile time, and a Netty old enough to lack {@code permitBlockingCalls()} counts every
 * {@code FastThreadLocalThread}, as its BlockHound integration then did.
 */
public final class NettyEventLoops implements EventLoopThreads {
    static final String FAST_THREAD_LOCAL_THREAD = "io.netty.util.concurrent.FastThreadLocalThread";
    private static final String VERTX_THREAD = "io.vertx.core.impl.VertxThread";

    /**
     * Where Netty's own threads block by design, from the list its BlockHound integration allows
     * (Netty 4.2.18): a loop that sleeps a second after an unexpected exception, a timer's tick,
     * an executor's quiet period at shutdown and its wait for a task, short locks in its pooled
     * allocators, TLS and resolver work that reads files or runs delegated tasks. Such a block
     * shorter than the ~20 ms before the stack is taken may still be reported, with the stack the
     * thread had by then.
     */
    private static final Map<String, Set<String>> BLOCKING_BY_DESIGN = Map.ofEntries(
            Map.entry("io.netty.channel.nio.NioEventLoop", Set.of("handleLoopException")),
            Map.entry("io.netty.channel.epoll.EpollEventLoop", Set.of("handleLoopException")),
            Map.entry("io.netty.channel.kqueue.KQueueEventLoop", Set.of("handleLoopException")),
            Map.entry("io.netty.util.HashedWheelTimer", Set.of("start", "stop")),
            Map.entry("io.netty.util.HashedWheelTimer$Worker", Set.of("waitForNextTick")),
            Map.entry("io.netty.util.concurrent.SingleThreadEventExecutor",
                    Set.of("confirmShutdown", "takeTask", "pollTaskFrom", "addTask")),
            Map.entry("io.netty.util.concurrent.GlobalEventExecutor", Set.of("takeTask", "addTask")),
            Map.entry("io.netty.buffer.PoolArena", Set.of("lock")),
            Map.entry("io.netty.buffer.PoolSubpage", Set.of("lock")),
            Map.entry("io.netty.buffer.PoolChunk", Set.of("allocateRun", "free")),
            Map.entry("io.netty.buffer.AdaptivePoolingAllocator$1", Set.of("initialValue", "onRemoval")),
            Map.entry("io.netty.handler.ssl.SslHandler", Set.of("handshake", "runAllDelegatedTasks", "runDelegatedTasks")),
            Map.entry("io.netty.handler.ssl.ReferenceCountedOpenSslClientContext$ExtendedTrustManagerVerifyCallback",
                    Set.of("verify")),
            Map.entry("io.netty.handler.ssl.JdkSslContext$Defaults", Set.of("init")),
            Map.entry("sun.security.ssl.SSLEngineImpl", Set.of("wrap", "unwrap")),
            Map.entry("io.netty.resolver.dns.UnixResolverDnsServerAddressStreamProvider",
                    Set.of("parse", "parseEtcResolverSearchDomains", "parseEtcResolverOptions")),
            Map.entry("io.netty.resolver.dns.DnsQueryIdSpace", Set.of("nextId")),
            Map.entry("io.netty.resolver.dns.DnsQueryIdSpace$DnsQueryIdRange", Set.of("pushId")),
            Map.entry("io.netty.resolver.HostsFileEntriesProvider$ParserImpl", Set.of("parse")),
            Map.entry("io.netty.util.NetUtil$SoMaxConnAction", Set.of("run")),
            Map.entry("io.netty.util.internal.ReferenceCountUpdater", Set.of("retryRelease0")),
            Map.entry("io.netty.util.internal.PlatformDependent", Set.of("createTempFile")),
            // Ours, not Netty's: the JDK selector under the NIO transport guards its wake-up pipe with
            // a monitor, so a loop that drains it while another thread wakes it (a task submitted
            // from outside, a shutdown) contends for well under a millisecond (measured: 0.3-0.7 ms).
            Map.entry("sun.nio.ch.EPollSelectorImpl", Set.of("clearInterrupt", "wakeup")),
            Map.entry("sun.nio.ch.PollSelectorImpl", Set.of("clearInterrupt", "wakeup")));

    /**
     * {@code permitBlockingCalls()} as declared by {@code FastThreadLocalThread}, per class of
     * thread (each class loader may have its own Netty); empty where it is not declared. Looked up
     * on the public Netty class, not the thread's own, which may be private: the call still
     * reaches an override.
     */
    private static final ClassValue<Optional<Method>> PERMIT_BLOCKING_CALLS = new ClassValue<>() {
        @Override
        protected Optional<Method> computeValue(Class<?> threadClass) {
            return fastThreadLocalThreadOf(threadClass).flatMap(netty -> publicNoArgumentMethod(netty, "permitBlockingCalls"));
        }
    };

    @Override
    public String framework() {
        return "Netty";
    }

    @Override
    public boolean isEventLoop(Thread thread) {
        Class<?> threadClass = thread.getClass();
        if (fastThreadLocalThreadOf(threadClass).isEmpty()) {
            return false;
        }
        return !permitsBlocking(thread, PERMIT_BLOCKING_CALLS.get(threadClass)) && !isVertxWorker(thread);
    }

    @Override
    public Map<String, Set<String>> blockingAllowedInside() {
        return BLOCKING_BY_DESIGN;
    }

    /**
     * What the thread says of itself; a Netty without the method, or one that throws, says
     * nothing, and the thread counts as one that must not block: a missed block is worse than a
     * report to look at.
     */
    static boolean permitsBlocking(Thread thread, Optional<Method> permitBlockingCalls) {
        return permitBlockingCalls.map(method -> invokeBoolean(method, thread)).orElse(false);
    }

    /** A Vert.x worker thread may block: Vert.x runs blocking code there on purpose. */
    private static boolean isVertxWorker(Thread thread) {
        return superclassNamed(thread.getClass(), VERTX_THREAD)
                .flatMap(vertx -> publicNoArgumentMethod(vertx, "isWorker"))
                .map(isWorker -> invokeBoolean(isWorker, thread))
                .orElse(false);
    }

    private static Optional<Class<?>> fastThreadLocalThreadOf(Class<?> threadClass) {
        return superclassNamed(threadClass, FAST_THREAD_LOCAL_THREAD);
    }

    private static Optional<Class<?>> superclassNamed(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(name)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    static Optional<Method> publicNoArgumentMethod(Class<?> type, String name) {
        try {
            Method method = type.getMethod(name);
            return method.getReturnType() == boolean.class ? Optional.of(method) : Optional.empty();
        } catch (NoSuchMethodException | SecurityException e) {
            return Optional.empty();
        }
    }

    private static boolean invokeBoolean(Method method, Object target) {
        try {
            return (boolean) method.invoke(target);
        } catch (IllegalAccessException | InvocationTargetException | RuntimeException e) {
            return false;
        }
    }
}
