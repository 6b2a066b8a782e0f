package dev.eventloopguardian.jvm;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class EventLoopThreadsTest {
    private interface Marker {
    }

    private static class MarkedThread extends Thread implements Marker {
    }

    private static class SubclassOfAMarkedThread extends MarkedThread {
    }

    @Test
    void aTypeIsAnyNameOfItsClassesAndInterfaces() {
        assertThat(EventLoopThreads.isA(SubclassOfAMarkedThread.class, Marker.class.getName())).isTrue();
        assertThat(EventLoopThreads.isA(SubclassOfAMarkedThread.class, Thread.class.getName())).isTrue();
        assertThat(EventLoopThreads.isA(SubclassOfAMarkedThread.class, Runnable.class.getName())).isTrue();
        assertThat(EventLoopThreads.isA(Thread.class, Marker.class.getName())).isFalse();
    }

    @Test
    void ourIntegrationsAreFoundByTheServiceLoader() {
        assertThat(ServiceLoader.load(EventLoopThreads.class).stream().map(provider -> provider.get().framework()))
                .contains("Reactor", "Netty");
    }

    @Test
    void withoutReactorNoThreadIsOneOfItsEventLoops() {
        assertThat(new ReactorEventLoops().isEventLoop(Thread.currentThread())).isFalse();
    }

    /** A Netty thread that says it may block, as Netty lets subclasses do. */
    private static class BlockingAllowedThread extends FastThreadLocalThread {
        @Override
        public boolean permitBlockingCalls() {
            return true;
        }
    }

    @Test
    void nettysThreadsMustNotBlockUnlessTheySaySo() {
        NettyEventLoops netty = new NettyEventLoops();
        assertThat(netty.isEventLoop(new FastThreadLocalThread())).isTrue();
        assertThat(netty.isEventLoop(new BlockingAllowedThread())).isFalse();
        assertThat(netty.isEventLoop(new Thread())).isFalse();
        assertThat(netty.isEventLoop(Thread.currentThread())).isFalse();
    }

    @Test
    void aNettyEventLoopGroupsThreadsAreEventLoops() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("netty-unit"),
                NioIoHandler.newFactory());
        try {
            AtomicReference<Thread> loop = new AtomicReference<>();
            group.submit(() -> loop.set(Thread.currentThread())).get();
            assertThat(new NettyEventLoops().isEventLoop(loop.get())).as("%s", loop.get()).isTrue();
        } finally {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aNettyWithoutPermitBlockingCallsCountsEveryOneOfItsThreads() {
        assertThat(NettyEventLoops.permitsBlocking(new BlockingAllowedThread(), Optional.empty())).isFalse();
        assertThat(NettyEventLoops.publicNoArgumentMethod(Thread.class, "permitBlockingCalls")).isEmpty();
    }

    @Test
    void nettysOwnBlockingByDesignIsAllowed() {
        assertThat(new NettyEventLoops().blockingAllowedInside())
                .containsEntry("io.netty.util.HashedWheelTimer$Worker", java.util.Set.of("waitForNextTick"))
                .hasEntrySatisfying("io.netty.util.concurrent.SingleThreadEventExecutor",
                        methods -> assertThat(methods).contains("confirmShutdown", "takeTask"));
    }
}
