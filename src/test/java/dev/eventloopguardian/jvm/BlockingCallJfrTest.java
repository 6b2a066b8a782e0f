package dev.eventloopguardian.jvm;

import dev.eventloopguardian.testing.KernelTest;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code BlockingCallSinks.jfr()}: a blocking call is a {@code dev.eventloopguardian.BlockingCall}
 * event in a flight recording, and the JDK's own {@code jfr print} shows it with the blocked
 * thread's Java stack.
 */
@KernelTest
class BlockingCallJfrTest {
    @Test
    void aBlockingCallIsInTheRecordingWithItsStack(@TempDir Path directory) throws Exception {
        Path recordingFile = directory.resolve("calls.jfr");
        CountDownLatch reported = new CountDownLatch(1);
        try (Recording recording = new Recording()) {
            recording.enable("dev.eventloopguardian.BlockingCall");
            recording.start();
            try (EventLoopGuardian guardian = EventLoopGuardian.builder()
                    .onBlockingCall(BlockingCallSinks.jfr())
                    .onBlockingCall(call -> reported.countDown())
                    .install()) {
                Thread guarded = guardian.guarding(Thread.ofPlatform().name("jfr-event-loop").factory())
                        .newThread(BlockingCallJfrTest::sleepOnTheLoopForTheRecording);
                guarded.start();
                guarded.join();
                assertThat(reported.await(5, TimeUnit.SECONDS)).as("a blocking call reported").isTrue();
            }
            recording.stop();
            recording.dump(recordingFile);
        }
        Path jfr = Path.of(System.getProperty("java.home"), "bin", "jfr");
        Process print = new ProcessBuilder(jfr.toString(), "print", "--events", "dev.eventloopguardian.BlockingCall",
                recordingFile.toString()).redirectErrorStream(true).start();
        String printed = new String(print.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(print.waitFor()).as(printed).isZero();
        assertThat(printed).contains("dev.eventloopguardian.BlockingCall", "blockedThread = \"jfr-event-loop\"",
                "kind = \"sleep\"", "sleepOnTheLoopForTheRecording");
    }

    private static void sleepOnTheLoopForTheRecording() {
        try {
            Thread.sleep(100);
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
