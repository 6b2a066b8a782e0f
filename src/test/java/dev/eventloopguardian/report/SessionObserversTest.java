package dev.eventloopguardian.report;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Metrics and OTLP at once: each hears the whole session. */
class SessionObserversTest {
    private record Heard(String name, List<String> calls) implements SessionObserver {
        @Override
        public void guarding(long pid, boolean inherited) {
            calls.add(name + " guarding " + pid);
        }

        @Override
        public void detached() {
            calls.add(name + " detached");
        }

        @Override
        public void reported(ReportedSleep sleep) {
            calls.add(name + " reported " + sleep.tid());
        }

        @Override
        public void woke(ReportedSleep sleep, long offCpuNanos) {
            calls.add(name + " woke " + sleep.tid() + " after " + offCpuNanos);
        }
    }

    @Test
    void eachObserverHearsEveryCallInOrder() {
        List<String> calls = new ArrayList<>();
        SessionObserver both = SessionObservers.of(new Heard("metrics", calls), SessionObserver.NONE, new Heard("otlp", calls));
        ReportedSleep sleep = new ReportedSleep(1, 2, 1, "t", Optional.empty(), "read", "syscall", OptionalLong.empty());
        both.guarding(1, true);
        both.reported(sleep);
        both.woke(sleep, 5);
        both.detached();
        assertThat(calls).containsExactly("metrics guarding 1", "otlp guarding 1", "metrics reported 2", "otlp reported 2",
                "metrics woke 2 after 5", "otlp woke 2 after 5", "metrics detached", "otlp detached");
    }

    @Test
    void noneFollowingIsNoneSoThatNoSleepIsBuiltForNoOne() {
        assertThat(SessionObservers.of(SessionObserver.NONE, SessionObserver.NONE)).isSameAs(SessionObserver.NONE);
        Heard alone = new Heard("alone", new ArrayList<>());
        assertThat(SessionObservers.of(SessionObserver.NONE, alone)).isSameAs(alone);
    }
}
