package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.RingBuffer;
import dev.eventloopguardian.testing.KernelTest;
import dev.eventloopguardian.testing.Python;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The host watch on real processes, attached to none of them: a process with rules has its
 * disallowed sleeps reported, one without is not looked at, a fork inherits its parent's rules
 * and an exec takes them away and is told to user space. Each child waits on stdin (read(0),
 * allowed by the defaults) until it is given its rules.
 */
@KernelTest
class HostWatchTest {
    private static final Policy REPORT = Policy.builder().noSignal().report(true).build();

    private static Process child(String code) throws Exception {
        return new ProcessBuilder(Python.executable(), "-c", code).start();
    }

    private static void go(Process process) throws Exception {
        OutputStream in = process.getOutputStream();
        in.write('\n');
        in.flush();
    }

    private static List<BlockingEvent> collect(HostWatch watch, Process... until) throws Exception {
        List<BlockingEvent> events = new CopyOnWriteArrayList<>();
        try (RingBuffer ring = watch.events(events::add)) {
            for (Process process : until) {
                assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("the child ends").isTrue();
            }
            ring.poll(Duration.ofMillis(100));
            while (ring.poll(Duration.ofMillis(50)) > 0) {
                // the rest
            }
        }
        return events;
    }

    @Test
    void aProcessWithRulesIsReportedAndOneWithoutIsNot() throws Exception {
        String sleep = "import sys, time; sys.stdin.readline(); time.sleep(0.05)";
        try (HostWatch watch = HostWatch.start(List.of(REPORT), 1000)) {
            Process watched = child(sleep);
            Process other = child(sleep);
            watch.watch((int) watched.pid(), 1);
            go(watched);
            go(other);
            List<BlockingEvent> events = collect(watch, watched, other);

            assertThat(events).as("the watched process's sleep")
                    .anySatisfy(event -> assertThat(event.pid()).isEqualTo(watched.pid()));
            assertThat(events).as("nothing of the other").noneSatisfy(event -> assertThat(event.pid()).isEqualTo(other.pid()));
        }
    }

    /** Rule 0 for threads named {@code worker*}, rule 1 (which allows clock_nanosleep) for the rest. */
    @Test
    void theFirstRuleWhoseThreadNamesMatchDecides() throws Exception {
        Policy workers = Policy.builder().noSignal().report(true).thread("worker*").build();
        Policy others = Policy.builder().noSignal().report(true).allow("clock_nanosleep").build();
        String code = String.join("\n",
                "import ctypes, sys, threading, time",
                "sys.stdin.readline()",
                "def work():",
                "    ctypes.CDLL(None).prctl(15, b'worker-1')",
                "    time.sleep(0.05)",
                "t = threading.Thread(target=work); t.start(); t.join()",
                "time.sleep(0.05)");
        try (HostWatch watch = HostWatch.start(List.of(workers, others), 1000)) {
            Process process = child(code);
            watch.watch((int) process.pid(), 0b11);
            go(process);
            List<BlockingEvent> events = collect(watch, process);

            assertThat(events).as("the worker's sleep, by rule 0").anySatisfy(event -> {
                assertThat(event.pid()).isEqualTo(process.pid());
                assertThat(event.thread()).isEqualTo("worker-1");
            });
            assertThat(events).as("the main thread's, allowed by rule 1")
                    .noneSatisfy(event -> assertThat(event.tid()).isEqualTo(process.pid()));
        }
    }

    @Test
    void aForkInheritsItsParentsRulesAndAnExecIsToldToUserSpace() throws Exception {
        String code = String.join("\n",
                "import os, sys, time",
                "sys.stdin.readline()",
                "pid = os.fork()",
                "if pid == 0:",
                "    time.sleep(0.05)",
                "    os.execv('/bin/sleep', ['sleep', '0.05'])",
                "print(pid, flush=True)",
                "os.waitpid(pid, 0)");
        try (HostWatch watch = HostWatch.start(List.of(REPORT), 1000)) {
            List<Integer> execs = new CopyOnWriteArrayList<>();
            Process parent = child(code);
            watch.watch((int) parent.pid(), 1);
            try (RingBuffer execRing = watch.execs(execs::add)) {
                go(parent);
                int forked = Integer.parseInt(new String(parent.getInputStream().readNBytes(16)).strip().split("\\s")[0]);
                List<BlockingEvent> events = collect(watch, parent);
                execRing.poll(Duration.ofMillis(100));

                assertThat(events).as("the fork's sleep before its exec").anySatisfy(event -> {
                    assertThat(event.pid()).isEqualTo(forked);
                    assertThat(event.syscall()).isNotNegative();
                });
                assertThat(events).as("nothing after its exec: the exec took its rules away").noneSatisfy(event -> {
                    assertThat(event.pid()).isEqualTo(forked);
                    assertThat(event.thread()).isEqualTo("sleep");
                });
                assertThat(execs).as("its exec, told").contains(forked);
                assertThat(watch.watched()).as("the parent, which exited, is forgotten on the way").isEmpty();
            }
        }
    }
}
