package dev.eventloopguardian.bpf;

import dev.eventloopguardian.perf.PerfEvent;
import dev.eventloopguardian.sys.Linux;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A platform thread whose every context switch runs a program: it opens a context-switch
 * perf event on itself, attaches the program, enables it, runs the body, and closes the
 * event. Each time the body blocks (a sleep, a park, a lock) the program runs once or more.
 */
final class ProducerThread {
    interface Body {
        void run() throws Exception;
    }

    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile int tid;

    private ProducerThread(String name, LoadedProgram program, Body body) {
        thread = Thread.ofPlatform().name(name).daemon().unstarted(() -> {
            tid = Linux.tid();
            try (PerfEvent event = PerfEvent.contextSwitches(0, PerfEvent.Options.live(false))) {
                event.attach(program.fd());
                event.enable();
                started.countDown();
                try {
                    body.run();
                } finally {
                    event.disable();
                }
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                started.countDown();
            }
        });
    }

    /** Starts the thread and returns once its event is enabled (or it failed). */
    static ProducerThread start(String name, LoadedProgram program, Body body) throws InterruptedException {
        ProducerThread producer = new ProducerThread(name, program, body);
        producer.thread.start();
        producer.started.await();
        return producer;
    }

    /** Runs {@code body} on a producer thread and waits for it. */
    static int run(LoadedProgram program, Body body) throws Exception {
        ProducerThread producer = start("elg-producer", program, body);
        producer.join();
        return producer.tid();
    }

    /** Waits for the body to end (its event is then disabled and closed) and rethrows its failure. */
    void join() throws Exception {
        thread.join();
        Throwable t = failure.get();
        if (t instanceof Exception e) {
            throw e;
        }
        if (t != null) {
            throw new AssertionError(t);
        }
    }

    /** The kernel thread id, as {@code bpf_get_current_pid_tgid} reports it in its low half. */
    int tid() {
        return tid;
    }
}
