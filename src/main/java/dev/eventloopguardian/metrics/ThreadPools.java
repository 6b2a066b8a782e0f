package dev.eventloopguardian.metrics;

/**
 * The thread-pool label of a blocking sleep: the thread's name with every run of digits written
 * {@code N}, so that the threads of one pool share a series ({@code vert.x-eventloop-thread-3}
 * and {@code -7} are both {@code vert.x-eventloop-thread-N}, {@code pool-2-thread-11} is
 * {@code pool-N-thread-N}) and a pool that grows adds none. A thread named as its process, the
 * main thread of most programs, keeps its name: {@code python3}'s is {@code python3}, not
 * {@code pythonN}.
 */
final class ThreadPools {
    private ThreadPools() {
    }

    /** The pool of {@code thread}, a thread of the process named {@code process}. */
    static String of(String thread, String process) {
        if (thread.equals(process)) {
            return thread;
        }
        StringBuilder pool = null;
        for (int i = 0; i < thread.length(); i++) {
            char c = thread.charAt(i);
            if (!isDigit(c)) {
                if (pool != null) {
                    pool.append(c);
                }
                continue;
            }
            if (pool == null) {
                pool = new StringBuilder(thread.length()).append(thread, 0, i);
            }
            pool.append('N');
            while (i + 1 < thread.length() && isDigit(thread.charAt(i + 1))) {
                i++;
            }
        }
        return pool == null ? thread : pool.toString();
    }

    /** ASCII digits only: other scripts' digits are rare in thread names and stay as written. */
    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
