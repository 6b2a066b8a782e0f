package dev.eventloopguardian.jvm;

import dev.eventloopguardian.sys.Linux;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Where each {@link BlockingCall} goes: past the exemptions, to the callbacks (or, without any,
 * to a {@link System.Logger} warning), then the abort if one was asked for. Calls of the
 * install's self-test go to the self-test alone.
 */
final class Dispatch implements Consumer<BlockingCall> {
    private static final System.Logger LOG = System.getLogger("dev.eventloopguardian");
    private static final int SIGABRT = 6;
    /** How long install waits for its own guarded thread to be caught sleeping. */
    private static final long SELF_TEST_SECONDS = 5;

    private final GuardedThreads threads;
    private final List<Consumer<BlockingCall>> callbacks;
    private final List<StackTraceElement> exemptions;
    private final boolean abort;
    private volatile int selfTestTid = -1;
    private final CompletableFuture<BlockingCall> selfTestCall = new CompletableFuture<>();

    Dispatch(GuardedThreads threads, List<Consumer<BlockingCall>> callbacks, List<StackTraceElement> exemptions,
             boolean abort) {
        this.threads = threads;
        this.callbacks = callbacks;
        this.exemptions = exemptions;
        this.abort = abort;
    }

    @Override
    public void accept(BlockingCall call) {
        if (call.tid() == selfTestTid) {
            selfTestCall.complete(call);
            return;
        }
        if (exempt(call)) {
            return;
        }
        if (callbacks.isEmpty()) {
            LOG.log(Level.WARNING, () -> BlockingCallSinks.describe(call));
        }
        for (Consumer<BlockingCall> callback : callbacks) {
            try {
                callback.accept(call);
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "a blocking-call callback failed", e);
            }
        }
        if (abort) {
            Linux.kill(Linux.pid(), SIGABRT);
        }
    }

    private boolean exempt(BlockingCall call) {
        return Blocker.isInside(call.javaStack(), exemptions);
    }

    /**
     * Proves the guard works before install returns: a thread of its own, guarded, sleeps at the
     * Java level, which must come back as a {@link BlockingCall.Kind#SLEEP}.
     */
    void selfTest() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread sleeper = Thread.ofPlatform().daemon().name("eventloop-guardian-self-test").unstarted(() -> {
            selfTestTid = Linux.tid();
            try {
                threads.guardCurrentThread();
                for (int i = 0; i < 3; i++) {
                    Thread.sleep(2);
                }
                done.complete(null);
            } catch (InterruptedException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        sleeper.start();
        try {
            done.get(SELF_TEST_SECONDS, TimeUnit.SECONDS);
            BlockingCall caught = selfTestCall.get(SELF_TEST_SECONDS, TimeUnit.SECONDS);
            if (caught.kind() != BlockingCall.Kind.SLEEP) {
                throw new GuardianException("self-test: a Thread.sleep was reported as " + caught.kind()
                        + ", so Java-level waits cannot be told apart on this JVM", null);
            }
        } catch (TimeoutException e) {
            throw new GuardianException("self-test: a guarded thread's Thread.sleep was not caught within "
                    + SELF_TEST_SECONDS + " s; this kernel or JVM does not let the guard see it", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof GuardianException failure ? failure
                    : new GuardianException("self-test failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuardianException("interrupted during the self-test", e);
        } finally {
            sleeper.interrupt();
            threads.release(selfTestTid);
        }
    }
}
