package dev.eventloopguardian.jvm;

import org.junit.jupiter.api.Test;

import java.util.ServiceLoader;

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
                .contains("Reactor");
    }

    @Test
    void withoutReactorNoThreadIsOneOfItsEventLoops() {
        assertThat(new ReactorEventLoops().isEventLoop(Thread.currentThread())).isFalse();
    }
}
