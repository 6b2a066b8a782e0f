package dev.eventloopguardian.report;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;

import static org.assertj.core.api.Assertions.assertThat;

class ReportOutputTest {
    /** Takes writes until {@code capacity} characters, then fails as a full disk does. */
    private static final class FullAfter extends Writer {
        private final StringWriter written = new StringWriter();
        private int room;

        FullAfter(int capacity) {
            this.room = capacity;
        }

        @Override
        public void write(char[] characters, int offset, int length) throws IOException {
            if (length > room) {
                throw new IOException("No space left on device");
            }
            room -= length;
            written.write(characters, offset, length);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void eventsBufferedWhenTheDestinationFailsAndEveryOneAfterAreCountedAsLost() throws IOException {
        FullAfter disk = new FullAfter(10);
        ReportOutput output = new ReportOutput("--output events.txt", disk);
        output.write("event one\n");
        output.eventWritten();
        output.flush();
        output.write("event two\n");
        output.eventWritten();
        output.write("event three\n");
        output.eventWritten();
        output.flush();

        assertThat(disk.written.toString()).isEqualTo("event one\n");
        assertThat(output.intact()).isFalse();
        assertThat(output.lostEvents()).isEqualTo(2);
        assertThat(output.failure()).hasValue("cannot write to --output events.txt: No space left on device");
    }

    @Test
    void aFailedFlushLosesWhatItHeld() throws IOException {
        StringWriter buffered = new StringWriter();
        ReportOutput output = new ReportOutput("stderr", new Writer() {
            @Override
            public void write(char[] characters, int offset, int length) {
                buffered.write(characters, offset, length);
            }

            @Override
            public void flush() throws IOException {
                throw new IOException("Broken pipe");
            }

            @Override
            public void close() {
            }
        });
        output.write("event\n");
        output.eventWritten();
        output.flush();
        output.write("another\n");
        output.eventWritten();

        assertThat(output.lostEvents()).isEqualTo(2);
        assertThat(output.failure()).hasValue("cannot write to stderr: Broken pipe");
    }

    @Test
    void anIntactOutputLosesNothing() throws IOException {
        StringWriter target = new StringWriter();
        ReportOutput output = new ReportOutput("stderr", target);
        output.write("event\n");
        output.eventWritten();
        output.flush();
        assertThat(output.intact()).isTrue();
        assertThat(output.lostEvents()).isZero();
        assertThat(target.toString()).isEqualTo("event\n");
    }
}
