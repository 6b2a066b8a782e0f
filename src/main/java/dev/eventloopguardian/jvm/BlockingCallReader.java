package dev.eventloopguardian.jvm;

import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.guard.BlockingEvent;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.GuardException;
import dev.eventloopguardian.guard.SleepEnd;
import dev.eventloopguardian.guard.SyscallTable;
import dev.eventloopguardian.guard.ThreadSwitches;
import dev.eventloopguardian.sys.Arch;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;

/**
 * Turns the guard's events into {@link BlockingCall}s on a thread of its own. The Java stack is
 * taken the moment an event is read, while the thread is most likely still blocked; the call
 * then waits for the record that ends its sleep, so that it is passed on with its length, for
 * {@link #HOLD} at most (a thread still blocked then is passed on as such).
 */
final class BlockingCallReader implements AutoCloseable {
    static final Duration HOLD = Duration.ofSeconds(1);
    private static final Duration POLL = Duration.ofMillis(20);

    /** Which Java thread a guarded tid runs: empty when it is not one of ours (any more). */
    interface Threads {
        Optional<Thread> threadOf(int tid);
    }

    private record Pending(BlockingCall call, long startNanos, long deadlineNanos) {
    }

    private final RingBuffer events;
    private final Threads threads;
    private final Consumer<BlockingCall> next;
    private final SyscallTable syscalls = SyscallTable.of(Arch.current());
    private final Map<Integer, Pending> pending = new LinkedHashMap<>();
    private final Thread reader;
    private volatile boolean stopping;

    BlockingCallReader(Guard guard, Threads threads, Consumer<BlockingCall> next) throws GuardException {
        this.threads = threads;
        this.next = next;
        this.events = guard.events(new Guard.SleepListener() {
            @Override
            public void asleep(BlockingEvent event) {
                taken(event);
            }

            @Override
            public void ended(SleepEnd end) {
                Pending open = pending.get(end.tid());
                if (open != null && open.startNanos() == end.sleepStartNanos()) {
                    pending.remove(end.tid());
                    pass(open.call(), OptionalLong.of(end.offCpuNanos()));
                }
            }
        });
        this.reader = Thread.ofPlatform().daemon().name("eventloop-guardian-reader").unstarted(this::read);
        reader.start();
    }

    private void read() {
        while (!stopping) {
            try {
                events.poll(POLL);
            } catch (IllegalStateException closed) {
                break; // closed under us: close() is on its way
            }
            passOverdue(System.nanoTime());
        }
        pending.values().forEach(open -> pass(open.call(), OptionalLong.empty()));
        pending.clear();
    }

    private void taken(BlockingEvent event) {
        Optional<Thread> guarded = threads.threadOf(event.tid());
        if (guarded.isEmpty()) {
            return;
        }
        BlockingCall.Kind kind = BlockingCall.Kind.of(event.javaWait());
        Optional<Blocker> blocker = Blocker.of(guarded.get(), kind, () -> ThreadSwitches.stillInTheSleepOf(event), event.thread());
        if (blocker.isEmpty()) {
            return;
        }
        String syscall = syscalls.name((int) event.syscall()).orElse("syscall " + event.syscall());
        BlockingCall call = new BlockingCall(event.wallTime(), blocker.get().name(), blocker.get().javaId(), blocker.get().virtual(),
                event.tid(), kind, syscall, event.arguments(), blocker.get().stack(), blocker.get().afterWake(), OptionalLong.empty());
        Pending earlier = pending.put(event.tid(), new Pending(call, event.monotonicNanos(), System.nanoTime() + HOLD.toNanos()));
        if (earlier != null) {
            pass(earlier.call(), OptionalLong.empty()); // its end was lost (the ring buffer was full)
        }
    }

    private void passOverdue(long now) {
        for (Iterator<Pending> open = pending.values().iterator(); open.hasNext(); ) {
            Pending next = open.next();
            if (next.deadlineNanos() - now <= 0) {
                open.remove();
                pass(next.call(), OptionalLong.empty());
            }
        }
    }

    private void pass(BlockingCall call, OptionalLong blockedNanos) {
        next.accept(new BlockingCall(call.time(), call.threadName(), call.javaThreadId(), call.virtualThread(), call.tid(), call.kind(),
                call.syscall(), call.arguments(), call.javaStack(), call.javaStackAfterWake(), blockedNanos));
    }

    /** Stops reading, passes on what is held, and waits for the reading thread to end. */
    @Override
    public void close() {
        stopping = true;
        try {
            reader.join(HOLD.toMillis() + POLL.toMillis() * 4);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        events.close();
    }
}
