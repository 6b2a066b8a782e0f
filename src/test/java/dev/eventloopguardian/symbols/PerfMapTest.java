package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PerfMapTest {
    /** Lines as HotSpot 25's Compiler.perfmap writes them (copied from one), out of address order. */
    private static final String HOTSPOT = """
            0x00007f25ebec7100 0x0000000000000460 java.lang.Object jdk.internal.misc.Unsafe.getReferenceVolatile(java.lang.Object, long)
            0x00007f25eb93fd60 0x00000000000194c8 Interpreter
            0x00007f25ebf35880 0x0000000000000078 long Hot.work(long)
            0x00007f25eb9592e0 0x00000000000004c8 I2C/C2I adapters
            """;

    private static PerfMap parse(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return PerfMap.parse(bytes, 0, bytes.length, false);
    }

    @Test
    void namesHotSpotsCodeWithTheOffsetIntoIt() {
        PerfMap map = parse(HOTSPOT);
        assertThat(map.size()).isEqualTo(4);
        assertThat(map.resolve(0x7f25ebf35880L)).isEqualTo("long Hot.work(long)+0x0");
        assertThat(map.resolve(0x7f25ebf358a4L)).isEqualTo("long Hot.work(long)+0x24");
        assertThat(map.resolve(0x7f25ebf358f7L)).isEqualTo("long Hot.work(long)+0x77");
        assertThat(map.resolve(0x7f25eb93fd60L + 0x1000)).isEqualTo("Interpreter+0x1000");
        assertThat(map.resolve(0x7f25ebec7100L + 0x10))
                .isEqualTo("java.lang.Object jdk.internal.misc.Unsafe.getReferenceVolatile(java.lang.Object, long)+0x10");
    }

    @Test
    void addressesOutsideEveryLineHaveNoName() {
        PerfMap map = parse(HOTSPOT);
        assertThat(map.resolve(0x7f25ebf35880L + 0x78)).as("one past the end").isNull();
        assertThat(map.resolve(0x7f25ebf35880L - 1)).isNull();
        assertThat(map.resolve(0)).isNull();
        assertThat(map.resolve(-1L)).isNull();
        assertThat(PerfMap.EMPTY.resolve(0x7f25ebf35880L)).isNull();
    }

    @Test
    void numbersWithoutThePrefixAsNodeAndPerfMapAgentWriteThem() {
        PerfMap map = parse("3ef414c0 398 RegExp:[{(]\n7F3C8D0A1B20 1a0 Ljava/lang/Thread;::sleep\n");
        assertThat(map.resolve(0x3ef414c0L + 0x10)).isEqualTo("RegExp:[{(]+0x10");
        assertThat(map.resolve(0x7f3c8d0a1b44L)).isEqualTo("Ljava/lang/Thread;::sleep+0x24");
    }

    @Test
    void theNewestLineWinsWhereCodeWasReplaced() {
        // Old code at 0x1000-0x1100, then freed: new code over its middle, and a line for the
        // very same range again, as an appending writer leaves them.
        PerfMap map = parse("""
                1000 100 old
                2000 100 moved
                1040 40 middle
                2000 100 again
                """);
        assertThat(map.resolve(0x1000)).isEqualTo("old+0x0");
        assertThat(map.resolve(0x1050)).isEqualTo("middle+0x10");
        assertThat(map.resolve(0x1090)).as("old again past the newer code, its offset from its own start")
                .isEqualTo("old+0x90");
        assertThat(map.resolve(0x2010)).isEqualTo("again+0x10");
        assertThat(map.size()).isEqualTo(4);
    }

    @Test
    void aLaterLineCoversAnEarlierOneEntirely() {
        PerfMap map = parse("""
                1040 40 earlier
                1000 100 later
                """);
        assertThat(map.resolve(0x1050)).isEqualTo("later+0x50");
        assertThat(map.size()).isEqualTo(1);
    }

    @Test
    void malformedLinesAreSkippedAndTheRestKept() {
        PerfMap map = parse("""
                garbage
                0x 10 no digits
                1000 zz bad size
                1000 10
                1000 10\s
                1000 0 empty code
                ffffffffffffff00 200 wraps past the top
                12345678901234567 10 seventeen digits
                1000\t10 a tab
                2000 10 good\r
                3000 10 good too
                """);
        assertThat(map.resolve(0x2004)).as("a CRLF line loses its CR").isEqualTo("good+0x4");
        assertThat(map.resolve(0x3004)).isEqualTo("good too+0x4");
        assertThat(map.resolve(0x1004)).isNull();
        assertThat(map.size()).isEqualTo(2);
    }

    @Test
    void aLastLineWithoutItsNewlineIsNotReadYet() {
        PerfMap map = parse("1000 10 whole\n2000 10 being writ");
        assertThat(map.resolve(0x1000)).isEqualTo("whole+0x0");
        assertThat(map.resolve(0x2000)).isNull();
    }

    @Test
    void theTailOfAFileStartsAtItsFirstWholeLine() {
        byte[] text = "1000 10 first\n2000 10 second\n".getBytes(StandardCharsets.UTF_8);
        PerfMap map = PerfMap.parse(text, 3, text.length, true);
        assertThat(map.resolve(0x1000)).isNull();
        assertThat(map.resolve(0x2000)).isEqualTo("second+0x0");
        assertThat(PerfMap.parse(text, 14, text.length, true).resolve(0x2000))
                .as("a tail that starts at a line's first byte still skips it: nothing says it does")
                .isNull();
    }

    @Test
    void namesAreUtf8() {
        assertThat(parse("1000 10 void Café.naïve()\n").resolve(0x1001)).isEqualTo("void Café.naïve()+0x1");
    }

    @Test
    void agreesWithABruteForceNewestWinsOnRandomOverlaps() {
        Random random = new Random(7);
        int lines = 2_000;
        long[] starts = new long[lines];
        long[] sizes = new long[lines];
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            starts[i] = 0x7f0000000000L + random.nextInt(50_000);
            sizes[i] = 1 + random.nextInt(random.nextBoolean() ? 40 : 2_000);
            text.append(Long.toHexString(starts[i])).append(' ').append(Long.toHexString(sizes[i])).append(" m").append(i)
                    .append('\n');
        }
        PerfMap map = parse(text.toString());
        for (int probe = 0; probe < 20_000; probe++) {
            long address = 0x7f0000000000L + random.nextInt(53_000);
            String expected = null;
            for (int i = lines - 1; i >= 0; i--) {
                if (address >= starts[i] && address < starts[i] + sizes[i]) {
                    expected = "m" + i + "+0x" + Long.toHexString(address - starts[i]);
                    break;
                }
            }
            assertThat(map.resolve(address)).as("0x%x", address).isEqualTo(expected);
        }
    }
}
