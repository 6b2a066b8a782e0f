package dev.eventloopguardian.jvm;

/**
 * A JVM for the guard that aborts: a thread named {@code loop-1} sleeps twice, first long enough
 * for an agent to find it (its first sleep begins before any agent could have), then 100 ms at
 * the Java level. Prints "survived" and exits 0 when neither sleep was stopped.
 */
public final class SleepingLoopProgram {
    private SleepingLoopProgram() {
    }

    public static void main(String[] args) throws Exception {
        Thread loop = Thread.ofPlatform().name("loop-1").start(() -> {
            try {
                Thread.sleep(1_000);
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        loop.join();
        System.out.println("survived");
    }
}
