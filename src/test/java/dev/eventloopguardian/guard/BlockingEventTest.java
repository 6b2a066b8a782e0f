package dev.eventloopguardian.guard;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BlockingEventTest {
    /**
     * A record as the guard program lays it out, at an offset inside a larger buffer: as long as
     * the frames its stack lengths say (capped and none for an error, as the program keeps them).
     */
    private static ByteBuffer record(int kernelStackBytes, int userStackBytes) {
        int kernelFrames = Math.clamp(kernelStackBytes, 0, 8 * EventLayout.KERNEL_FRAMES) / 8;
        int userFrames = Math.clamp(userStackBytes, 0, 8 * EventLayout.USER_FRAMES) / 8;
        int length = EventLayout.FRAMES + 8 * (kernelFrames + userFrames);
        int base = 8;
        ByteBuffer buffer = ByteBuffer.allocate(base + length + 16).order(ByteOrder.nativeOrder());
        buffer.putLong(base + EventLayout.TIME, 123_456_789L);
        buffer.putLong(base + EventLayout.PID_TGID, (4242L << 32) | 4250L);
        buffer.put(base + EventLayout.COMM, "vert.x-eventloo".getBytes(StandardCharsets.US_ASCII));
        buffer.putLong(base + EventLayout.SYSCALL, 230);
        for (int i = 0; i < 6; i++) {
            buffer.putLong(base + EventLayout.ARGS + 8 * i, 100 + i);
        }
        buffer.putInt(base + EventLayout.STATE, 0x1);
        buffer.putLong(base + EventLayout.SWITCHES, 17);
        buffer.putLong(base + EventLayout.EXEC_ID, 2);
        buffer.putInt(base + EventLayout.KERNEL_STACK_BYTES, kernelStackBytes);
        buffer.putInt(base + EventLayout.USER_STACK_BYTES, userStackBytes);
        for (int i = 0; i < kernelFrames; i++) {
            buffer.putLong(base + EventLayout.FRAMES + 8 * i, 0xffff_ffff_8100_0000L + i);
        }
        for (int i = 0; i < userFrames; i++) {
            buffer.putLong(base + EventLayout.FRAMES + 8 * (kernelFrames + i), 0x7f00_0000_0000L + i);
        }
        // What follows the record in the ring buffer is not its own.
        buffer.putLong(base + length, 0xdead_beefL);
        return buffer.position(base).limit(base + length);
    }

    @Test
    void decodesEveryFieldWhereTheProgramWritesIt() {
        BlockingEvent event = BlockingEvent.decode(record(3 * 8, 2 * 8));
        assertThat(event.monotonicNanos()).isEqualTo(123_456_789L);
        assertThat(event.pid()).isEqualTo(4242);
        assertThat(event.tid()).isEqualTo(4250);
        assertThat(event.thread()).isEqualTo("vert.x-eventloo");
        assertThat(event.syscall()).isEqualTo(230);
        assertThat(event.arguments()).containsExactly(100, 101, 102, 103, 104, 105);
        assertThat(event.stateLetter()).isEqualTo('S');
        assertThat(event.kernelStack()).containsExactly(0xffff_ffff_8100_0000L, 0xffff_ffff_8100_0001L, 0xffff_ffff_8100_0002L);
        assertThat(event.userStack()).containsExactly(0x7f00_0000_0000L, 0x7f00_0000_0001L);
        assertThat(event.switches()).isEqualTo(17);
        assertThat(event.execId()).isEqualTo(2);
    }

    @Test
    void aFailedStackReadGivesNoFramesAndAFullOneIsCapped() {
        BlockingEvent failed = BlockingEvent.decode(record(-14, 10_000));
        assertThat(failed.kernelStack()).isEmpty();
        assertThat(failed.userStack()).hasSize(EventLayout.USER_FRAMES);
    }

    @Test
    void theUserStackStartsWhereTheKernelStackEnds() {
        BlockingEvent event = BlockingEvent.decode(record(8, 8));
        assertThat(event.kernelStack()).containsExactly(0xffff_ffff_8100_0000L);
        assertThat(event.userStack()).containsExactly(0x7f00_0000_0000L);
    }

    @Test
    void rejectsATruncatedRecord() {
        assertThatThrownBy(() -> BlockingEvent.decode(ByteBuffer.allocate(EventLayout.FRAMES - 1)))
                .hasMessageContaining("at least " + EventLayout.FRAMES + " bytes");
        ByteBuffer shortOfItsStacks = record(3 * 8, 2 * 8);
        assertThatThrownBy(() -> BlockingEvent.decode(shortOfItsStacks.limit(shortOfItsStacks.limit() - 8)))
                .hasMessageContaining("is " + (EventLayout.FRAMES + 40) + " bytes");
    }
}
