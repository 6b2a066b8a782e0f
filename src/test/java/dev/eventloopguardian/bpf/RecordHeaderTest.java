package dev.eventloopguardian.bpf;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RecordHeaderTest {
    @Test
    void theTopTwoBitsOfLenAreFlagsAndTheRestIsTheDataLength() {
        int busy = 0x8000_0014; // BPF_RINGBUF_BUSY_BIT | 20
        int discarded = 0x4000_0014; // BPF_RINGBUF_DISCARD_BIT | 20
        assertThat(RecordHeader.isBusy(busy)).isTrue();
        assertThat(RecordHeader.isDiscarded(busy)).isFalse();
        assertThat(RecordHeader.isBusy(discarded)).isFalse();
        assertThat(RecordHeader.isDiscarded(discarded)).isTrue();
        assertThat(RecordHeader.dataLength(busy)).isEqualTo(20);
        assertThat(RecordHeader.dataLength(discarded)).isEqualTo(20);
        assertThat(RecordHeader.dataLength(20)).isEqualTo(20);
        assertThat(RecordHeader.dataLength(0x3fff_ffff)).isEqualTo(0x3fff_ffff); // RINGBUF_MAX_RECORD_SZ is UINT_MAX / 4
    }

    @Test
    void aRecordSpansItsHeaderAndDataRoundedUpToEightBytes() {
        assertThat(RecordHeader.span(0)).isEqualTo(8);
        assertThat(RecordHeader.span(1)).isEqualTo(16);
        assertThat(RecordHeader.span(8)).isEqualTo(16);
        assertThat(RecordHeader.span(9)).isEqualTo(24);
        assertThat(RecordHeader.span(20)).isEqualTo(32);
        assertThat(RecordHeader.span(RecordHeader.DISCARD | 20)).isEqualTo(32); // flags are not length
        assertThat(RecordHeader.span(0x3fff_ffff)).isEqualTo(0x4000_0008L); // no int overflow
    }
}
