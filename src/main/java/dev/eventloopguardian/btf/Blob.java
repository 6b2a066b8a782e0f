package dev.eventloopguardian.btf;

import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * The bytes of a BTF blob, fetched a page at a time on first touch. sysfs answers each read(2)
 * with at most one page, so reading all of vmlinux costs about 1350 system calls (7 ms on our
 * VMs, in C too), while the guard's lookups touch a few dozen pages: the first records and the
 * names compared against. The file is opened only while a lookup runs (see {@link #release}),
 * so no descriptor outlives it to leak into an exec'd command. Not thread-safe: {@link Btf}
 * serialises access.
 */
final class Blob {
    private static final int PAGE_BITS = 12;
    private static final int PAGE = 1 << PAGE_BITS;
    private static final int PAGE_MASK = PAGE - 1;

    final int length;
    private final File file;
    private final byte[][] pages;
    private RandomAccessFile open;

    private Blob(File file, int length, byte[][] pages) {
        this.file = file;
        this.length = length;
        this.pages = pages;
    }

    static Blob of(byte[] data) {
        byte[][] pages = new byte[(data.length + PAGE - 1) >>> PAGE_BITS][];
        for (int i = 0; i < pages.length; i++) {
            pages[i] = Arrays.copyOfRange(data, i << PAGE_BITS, Math.min(data.length, (i + 1) << PAGE_BITS));
        }
        return new Blob(null, data.length, pages);
    }

    static Blob of(File file) throws IOException {
        long length = file.length();
        if (length > Integer.MAX_VALUE) {
            throw new IOException(file + " is " + length + " bytes, too large for BTF");
        }
        Blob blob = new Blob(file, (int) length, new byte[(int) ((length + PAGE - 1) >>> PAGE_BITS)][]);
        blob.open = new RandomAccessFile(file, "r");
        return blob;
    }

    int u8(int position) {
        return page(position >>> PAGE_BITS)[position & PAGE_MASK] & 0xff;
    }

    int u32(int position, boolean bigEndian) {
        int offset = position & PAGE_MASK;
        int value;
        if (offset <= PAGE - 4) {
            byte[] page = page(position >>> PAGE_BITS);
            value = (page[offset] & 0xff) | (page[offset + 1] & 0xff) << 8 | (page[offset + 2] & 0xff) << 16
                    | page[offset + 3] << 24;
        } else {
            value = u8(position) | u8(position + 1) << 8 | u8(position + 2) << 16 | u8(position + 3) << 24;
        }
        return bigEndian ? Integer.reverseBytes(value) : value;
    }

    /** Closes the file until the next page is needed; pages already read stay. */
    void release() {
        if (open != null) {
            try {
                open.close();
            } catch (IOException ignored) {
                // Read-only: nothing was left unwritten.
            }
            open = null;
        }
    }

    private byte[] page(int index) {
        byte[] page = pages[index];
        return page != null ? page : load(index);
    }

    private byte[] load(int index) {
        int start = index << PAGE_BITS;
        byte[] page = new byte[Math.min(PAGE, length - start)];
        try {
            if (open == null) {
                open = new RandomAccessFile(file, "r");
            }
            open.seek(start);
            open.readFully(page);
        } catch (EOFException e) {
            throw new UncheckedIOException(file + " is truncated: it ends before byte " + (start + page.length)
                    + " though it is " + length + " bytes long", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        pages[index] = page;
        return page;
    }
}
