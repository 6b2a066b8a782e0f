package dev.eventloopguardian.report;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A reported blocking sleep as a {@link SessionObserver} sees it: who slept, in what, and for how
 * long when that was known at the time of the report; no stacks.
 *
 * @param pid          the process
 * @param tid          the thread
 * @param execId       how many times the process had exec'd: with the pid, which program it was
 * @param thread       the thread's name as the kernel knows it (15 characters at most)
 * @param javaThread   the Java thread's full name, when its JVM told us
 * @param syscall      the syscall's name
 * @param kind         {@code syscall}, or the Java-level wait a futex sleep was: {@code sleep},
 *                     {@code park}, {@code wait} or {@code monitor}
 * @param blockedNanos the time off the CPU, when the sleep had ended
 */
public record ReportedSleep(int pid, int tid, long execId, String thread, Optional<String> javaThread, String syscall,
                            String kind, OptionalLong blockedNanos) {
    static ReportedSleep of(NamedEvent named) {
        return new ReportedSleep(named.event().pid(), named.event().tid(), named.event().execId(), named.event().thread(),
                named.java().map(JavaContext::threadName).filter(name -> !name.isEmpty()), named.syscall(), named.kind(),
                named.blockedNanos());
    }
}
