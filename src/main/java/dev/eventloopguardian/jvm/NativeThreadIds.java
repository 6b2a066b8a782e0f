package dev.eventloopguardian.jvm;

import javax.management.JMException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which kernel thread runs which Java thread. No public API gives a {@code Thread}'s native id;
 * HotSpot's own thread dump does, in-process, through the {@code DiagnosticCommand} MBean that
 * {@code jcmd PID Thread.print} uses: each thread's line reads {@code "name" #JAVA_ID [TID] ...}.
 * A dump stops the JVM at a safepoint for a moment: it is taken when threads to guard appear,
 * never per event. A thread that runs this class's caller's code can simply ask the kernel.
 */
final class NativeThreadIds {
    private static final Pattern THREAD_LINE = Pattern.compile("^\".*\" #(\\d+) (?:daemon )?\\[(\\d+)]");

    private NativeThreadIds() {
    }

    /** Every platform thread's kernel tid, by Java thread id. */
    static Map<Long, Integer> byJavaId() {
        return parse(threadDump());
    }

    static Map<Long, Integer> parse(String dump) {
        Map<Long, Integer> tids = new HashMap<>();
        dump.lines().forEach(line -> {
            Matcher matcher = THREAD_LINE.matcher(line);
            if (matcher.find()) {
                tids.put(Long.parseLong(matcher.group(1)), Integer.parseInt(matcher.group(2)));
            }
        });
        return tids;
    }

    /** HotSpot's thread dump, as {@code jcmd PID Thread.print} prints it: one safepoint. */
    static String threadDump() {
        try {
            return (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "threadPrint",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
        } catch (JMException e) {
            throw new IllegalStateException("this JVM does not answer the Thread.print diagnostic command, which "
                    + "maps Java threads to kernel threads: " + e.getMessage(), e);
        }
    }
}
