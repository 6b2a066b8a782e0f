package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sched_switch prototype on real processes: a guarded thread that sleeps where the policy
 * does not allow is signalled, the signal lands on that thread, and nothing else is touched.
 * Each child waits on stdin (read(0), allowed) until it is marked.
 */
@KernelTest
class SchedSwitchGuardTest {
    private static Process child(String code) throws Exception {
        return new ProcessBuilder(Python.executable(), "-c", code).redirectErrorStream(false).start();
    }

    private static void go(Process process) throws Exception {
        OutputStream in = process.getOutputStream();
        in.write('\n');
        in.flush();
    }

    private static int exit(Process process) throws Exception {
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("the child ends").isTrue();
        return process.exitValue();
    }

    @Test
    void aGuardedThreadIsAbortedInADisallowedSleepAndOnlyThere() throws Exception {
        String sleep = "import sys, time; sys.stdin.readline(); time.sleep(0.2)";
        String epoll = "import select, sys; sys.stdin.readline(); select.epoll().poll(0.2)";
        try (SchedSwitchGuard guard = SchedSwitchGuard.start(Policy.defaults())) {
            Process guarded = child(sleep);
            Process allowed = child(epoll);
            Process unguarded = child(sleep);
            guard.guard((int) guarded.pid());
            guard.guard((int) allowed.pid());
            go(guarded);
            go(allowed);
            go(unguarded);
            assertThat(exit(guarded)).as("SIGABRT").isEqualTo(128 + 6);
            assertThat(exit(allowed)).as("epoll is allowed").isZero();
            assertThat(exit(unguarded)).as("not guarded").isZero();
        }
    }

    /** The signal is the thread's own: blocked there, it waits in the thread's pending set, not the process's. */
    @Test
    void theSignalLandsOnTheSleepingThread() throws Exception {
        String code = String.join("\n",
                "import signal, sys, threading, time",
                "def work():",
                "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})",
                "    print(threading.get_native_id(), flush=True)",
                "    sys.stdin.readline()",
                "    time.sleep(5)",
                "threading.Thread(target=work).start()");
        try (SchedSwitchGuard guard = SchedSwitchGuard.start(Policy.builder().signal(new Signal(10)).build())) {
            Process process = child(code);
            try {
                int worker = Integer.parseInt(new BufferedReader(new InputStreamReader(process.getInputStream())).readLine().strip());
                guard.guard(worker);
                go(process);
                Path status = Path.of("/proc", Long.toString(process.pid()), "task", Integer.toString(worker), "status");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (!pending(status, "SigPnd") && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(pending(status, "SigPnd")).as("SIGUSR1 pending on the sleeping thread").isTrue();
                assertThat(pending(status, "ShdPnd")).as("not on the process").isFalse();
                Path main = Path.of("/proc", Long.toString(process.pid()), "task", Long.toString(process.pid()), "status");
                assertThat(pending(main, "SigPnd")).as("not on the main thread").isFalse();
            } finally {
                process.destroyForcibly();
            }
        }
    }

    private static boolean pending(Path status, String field) throws Exception {
        String line = Files.readAllLines(status).stream().filter(l -> l.startsWith(field + ":")).findFirst().orElseThrow();
        return (Long.parseUnsignedLong(line.substring(field.length() + 1).strip(), 16) & 1L << (10 - 1)) != 0;
    }

    @Test
    void theProgramLooksAtTheMarkOnlyForSleepsAndTheRegistersOnlyForMarkedThreads() throws Exception {
        try (SchedSwitchGuard guard = SchedSwitchGuard.start(Policy.defaults())) {
            String listing = guard.program().listing();
            assertThat(listing.indexOf("prev_state")).isLessThan(listing.indexOf("bpf_task_storage_get"));
            assertThat(listing.indexOf("bpf_task_storage_get")).isLessThan(listing.indexOf("bpf_task_pt_regs"));
            assertThat(guard.program().helpersCalled()).contains(Helper.SEND_SIGNAL_THREAD)
                    .doesNotContain(Helper.GET_CURRENT_TASK_BTF);
        }
    }
}
