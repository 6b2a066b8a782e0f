package dev.eventloopguardian.jvm;

/** Reactor's non-blocking threads: those that implement {@code reactor.core.scheduler.NonBlocking}. */
public final class ReactorEventLoops implements EventLoopThreads {
    private static final String NON_BLOCKING = "reactor.core.scheduler.NonBlocking";

    @Override
    public String framework() {
        return "Reactor";
    }

    @Override
    public boolean isEventLoop(Thread thread) {
        return EventLoopThreads.isA(thread.getClass(), NON_BLOCKING);
    }
}
