package dev.eventloopguardian.bpf;

/**
 * The 8-byte header the kernel puts before every ring buffer record ({@code struct
 * bpf_ringbuf_hdr} in kernel/bpf/ringbuf.c): {@code u32 len; u32 pg_off}. The two top bits of
 * {@code len} are flags; {@code pg_off} only helps the kernel find its ring from a record.
 */
final class RecordHeader {
    static final int BYTES = 8; // BPF_RINGBUF_HDR_SZ

    /** Reserved but not yet submitted or discarded: the data is still being written. */
    static final int BUSY = 1 << 31;
    /** Submitted as discarded: the consumer skips it. */
    static final int DISCARD = 1 << 30;

    private RecordHeader() {
    }

    static boolean isBusy(int len) {
        return (len & BUSY) != 0;
    }

    static boolean isDiscarded(int len) {
        return (len & DISCARD) != 0;
    }

    /** The record's data length in bytes, without the header and the flags. */
    static int dataLength(int len) {
        return len & ~(BUSY | DISCARD);
    }

    /**
     * How far the record moves the consumer position: header plus data, rounded up to 8 bytes
     * as the kernel reserves it ({@code round_up(size + BPF_RINGBUF_HDR_SZ, 8)}).
     */
    static long span(int len) {
        return (BYTES + (long) dataLength(len) + 7) & ~7L;
    }
}
