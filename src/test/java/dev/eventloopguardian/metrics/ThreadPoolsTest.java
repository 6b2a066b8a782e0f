package dev.eventloopguardian.metrics;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class ThreadPoolsTest {
    @ParameterizedTest(name = "{0} of {1} is pool {2}")
    @CsvSource({
            // Java names, from the JVM's agent
            "vert.x-eventloop-thread-3, java, vert.x-eventloop-thread-N",
            "vert.x-eventloop-thread-17, java, vert.x-eventloop-thread-N",
            "pool-2-thread-11, java, pool-N-thread-N",
            "nioEventLoopGroup-2-1, java, nioEventLoopGroup-N-N",
            "ForkJoinPool-1-worker-1, java, ForkJoinPool-N-worker-N",
            "virtual thread #42 on ForkJoinPool-1-worker-3, java, virtual thread #N on ForkJoinPool-N-worker-N",
            // the kernel's names, 15 characters
            "vert.x-eventloo, java, vert.x-eventloo",
            "asyncio_0, python3, asyncio_N",
            "ThreadPoolExec, python3, ThreadPoolExec",
            "io_thd_12, redis-server, io_thd_N",
            // a thread named as its process keeps its digits: python3's main thread is python3
            "python3, python3, python3",
            "python3.11, python3.11, python3.11",
            "node, node, node",
            // but not a thread of another process that happens to carry the same digits
            "python3, java, pythonN",
            "'', java, ''",
    })
    void foldsEachRunOfDigitsExceptInAThreadNamedAsItsProcess(String thread, String process, String pool) {
        assertThat(ThreadPools.of(thread, process)).isEqualTo(pool);
    }
}
