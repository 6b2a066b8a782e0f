package dev.eventloopguardian.cli;

import dev.eventloopguardian.testing.Guardian;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;

import static dev.eventloopguardian.testing.Guardian.guardian;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which threads are guarded: by default only the thread that execs COMMAND (its main thread);
 * with {@code --all-threads} also every thread and child process COMMAND creates.
 */
@KernelTest
class ThreadsTest {
    private static final int SIGABRT = 6;
    private static final String PYTHON = Python.executable();

    /** The second thread blocks in nanosleep; main waits for it in join, a futex wait (allowed). */
    private static final String SECOND_THREAD_SLEEPS = """
            import threading, time
            t = threading.Thread(target=lambda: time.sleep(0.2))
            t.start()
            t.join()
            print("joined")
            """;

    /**
     * The child process blocks in nanosleep; the parent never sleeps (it polls with WNOHANG,
     * since a blocking wait4 would itself be a blocking call) and reports how the child ended.
     */
    private static final String CHILD_PROCESS_SLEEPS = """
            import os, time
            pid = os.fork()
            if pid == 0:
                time.sleep(0.2)
                os._exit(0)
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
            print("child", os.waitstatus_to_exitcode(status))
            """;

    @Test
    void byDefaultASecondThreadIsNotGuarded() {
        Guardian.Result result = guardian().run(PYTHON, "-c", SECOND_THREAD_SLEEPS);
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("joined\n");
    }

    @Test
    void allThreadsGuardsASecondThread() {
        Guardian.Result result = guardian().noCoreDump().run("--all-threads", PYTHON, "-c", SECOND_THREAD_SLEEPS);
        assertThat(result.killedBy(SIGABRT)).as(result.toString()).isTrue();
        assertThat(result.stdout()).as(result.toString()).doesNotContain("joined");
    }

    @Test
    void byDefaultAChildProcessIsNotGuarded() {
        Guardian.Result result = guardian().run(PYTHON, "-c", CHILD_PROCESS_SLEEPS);
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("child 0\n");
    }

    @Test
    void allThreadsGuardsAChildProcess() {
        Guardian.Result result = guardian().noCoreDump().run("--all-threads", PYTHON, "-c", CHILD_PROCESS_SLEEPS);
        // The child was stopped; the parent, which never slept, lived to say so.
        assertThat(result.status()).as(result.toString()).isZero();
        assertThat(result.stdout()).as(result.toString()).isEqualTo("child -" + SIGABRT + "\n");
    }
}
