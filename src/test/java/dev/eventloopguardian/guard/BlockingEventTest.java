package dev.eventloopguardian.guard;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BlockingEventTest {
    /** A record as the guard program lays it out, at an offset inside a larger buffer. */
    private static ByteBuffer record(int kernelStackBytes, int userStackBytes) {
        ByteBuffer buffer = ByteBuffer.allocate(EventLayout.SIZE + 16).order(ByteOrder.nativeOrder());
        int base = 8;
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
        for (int i = 0; i < EventLayout.KERNEL_FRAMES; i++) {
            buffer.putLong(base + EventLayout.KERNEL_STACK + 8 * i, 0xffff_ffff_8100_0000L + i);
        }
        for (int i = 0; i < EventLayout.USER_FRAMES; i++) {
            buffer.putLong(base + EventLayout.USER_STACK + 8 * i, 0x7f00_0000_0000L + i);
        }
        return buffer.position(base);
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
    void rejectsATruncatedRecord() {
        assertThatThrownBy(() -> BlockingEvent.decode(ByteBuffer.allocate(EventLayout.SIZE - 1)))
                .hasMessageContaining(EventLayout.SIZE + " bytes");
    }
}
