package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;

import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Parsing text in the format of /proc/kallsyms; no privileges needed. */
class KernelSymbolsTest {
    private static KernelSymbols parse(String text) {
        return KernelSymbols.parse(text.getBytes(StandardCharsets.US_ASCII), "test");
    }

    @Test
    void namesAnAddressByTheSymbolAtOrBeforeIt() {
        KernelSymbols symbols = parse("""
                ffffffff81000000 T _stext
                ffffffff82266810 T schedule
                ffffffff822668c0 T schedule_idle
                """);
        assertThat(symbols.resolve(0xffffffff82266810L)).isEqualTo("schedule+0x0");
        assertThat(symbols.resolve(0xffffffff8226683cL)).isEqualTo("schedule+0x2c");
        assertThat(symbols.resolve(0xffffffff822668bfL)).isEqualTo("schedule+0xaf");
        assertThat(symbols.resolve(0xffffffff822668c0L)).isEqualTo("schedule_idle+0x0");
        assertThat(symbols.unavailable()).isEmpty();
        assertThat(symbols.size()).isEqualTo(3);
    }

    @Test
    void thePaddingBeforeEachFunctionIsNotKept() {
        // Kernels with call-depth tracking or CFI name the 16 bytes before each function.
        KernelSymbols symbols = parse("""
                ffffffff82266800 T __pfx_schedule
                ffffffff82266810 T schedule
                ffffffff822668b0 t __pfx_schedule_idle
                ffffffff822668c0 T schedule_idle
                """);
        assertThat(symbols.size()).isEqualTo(2);
        assertThat(symbols.resolve(0xffffffff8226683cL)).isEqualTo("schedule+0x2c");
        assertThat(symbols.resolve(0xffffffff822668c4L)).isEqualTo("schedule_idle+0x4");
    }

    @Test
    void addressesBelowEverySymbolStayHexadecimal() {
        KernelSymbols symbols = parse("ffffffff81000000 T _stext\n");
        assertThat(symbols.resolve(0xffffffff80ffffffL)).isEqualTo("0xffffffff80ffffff");
        // Unsigned order: a user address is below every kernel one, not above.
        assertThat(symbols.resolve(0x7fff12345678L)).isEqualTo("0x7fff12345678");
    }

    @Test
    void namesTheModuleInBracketsAndSortsModulesInAmongTheKernel() {
        // Modules and BPF programs are listed after the kernel, out of address order.
        KernelSymbols symbols = parse("""
                ffffffff81000000 T _stext
                ffffffff8226d840 t do_nanosleep
                ffffffffc0a02000 t nf_hook_slow\t[nf_tables]
                ffffffffc0a01000 t nft_do_chain\t[nf_tables]
                ffffffffc0001000 t bpf_prog_6deef7357e7b4530_guard\t[bpf]
                """);
        assertThat(symbols.resolve(0xffffffffc0a01040L)).isEqualTo("nft_do_chain+0x40 [nf_tables]");
        assertThat(symbols.resolve(0xffffffffc0a02010L)).isEqualTo("nf_hook_slow+0x10 [nf_tables]");
        assertThat(symbols.resolve(0xffffffffc000106eL)).isEqualTo("bpf_prog_6deef7357e7b4530_guard+0x6e [bpf]");
        assertThat(symbols.resolve(0xffffffff8226d8aeL)).isEqualTo("do_nanosleep+0x6e");
    }

    @Test
    void farPastTheLastSymbolOfARegionThereIsNoName() {
        // A BPF program loaded after kallsyms was read sits megabytes past the last module.
        KernelSymbols symbols = parse("ffffffffc0a01000 t nft_do_chain\t[nf_tables]\n");
        assertThat(symbols.resolve(0xffffffffc0a01000L + 0x100000)).isEqualTo("nft_do_chain+0x100000 [nf_tables]");
        assertThat(symbols.resolve(0xffffffffc0a01000L + 0x100001)).isEqualTo("0xffffffffc0b01001");
    }

    @Test
    void ofSymbolsAtOneAddressTheFirstListedWinsAsInTheKernel() {
        KernelSymbols symbols = parse("""
                ffffffff81000000 T srso_alias_untrain_ret
                ffffffff81000000 T _stext
                ffffffff81000000 T _text
                ffffffff81000100 T next
                """);
        assertThat(symbols.resolve(0xffffffff81000004L)).isEqualTo("srso_alias_untrain_ret+0x4");
    }

    @Test
    void absoluteSymbolsAreNotCode() {
        // Per-CPU variables are absolute offsets from 0 on some kernels; they must not name user addresses.
        KernelSymbols symbols = parse("""
                0000000000000000 A fixed_percpu_data
                0000000000001000 A cpu_number
                ffffffff81000000 T _stext
                """);
        assertThat(symbols.resolve(0x1004)).isEqualTo("0x1004");
        assertThat(symbols.size()).isEqualTo(1);
    }

    @Test
    void allZeroAddressesMeanTheKernelHidesThemAndSaysWhy() {
        // What an unprivileged reader gets with kernel.kptr_restrict=1 or perf_event_paranoid=2.
        KernelSymbols symbols = parse("""
                0000000000000000 T _stext
                0000000000000000 T schedule
                0000000000000000 t nf_hook_slow\t[nf_tables]
                """);
        assertThat(symbols.unavailable()).hasValueSatisfying(why -> assertThat(why)
                .contains("hides the addresses")
                .contains("kernel.kptr_restrict="));
        assertThat(symbols.resolve(0xffffffff82266810L)).isEqualTo("0xffffffff82266810");
        assertThat(symbols.size()).isZero();
    }

    @Test
    void skipsLinesOfAnotherShape() {
        KernelSymbols symbols = parse("""
                garbage
                ffffffff81000000 T _stext
                ffffffff81000010
                ffffffff81000100 T last""");
        assertThat(symbols.resolve(0xffffffff81000008L)).isEqualTo("_stext+0x8");
        assertThat(symbols.resolve(0xffffffff81000104L)).isEqualTo("last+0x4");
    }

    @Test
    void nothingIsReadBeforeTheFirstQuestion() {
        assertThat(KernelSymbols.kallsyms()).hasToString("KernelSymbols[/proc/kallsyms, not read yet]");
    }

    @Test
    void aFileIsReadAPageAtATimeWithLinesAcrossPagesAndLongerThanTheBuffer(@TempDir Path directory) throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            text.append(String.format("%016x %s function_%d%s%n", 0xffffffff81000000L + 0x100L * i, i % 2 == 0 ? "T" : "t", i,
                    i % 7 == 0 ? "\t[module_" + i + "]" : ""));
        }
        text.append("ffffffff82000000 T ").append("x".repeat(100_000)).append('\n'); // longer than the read buffer
        text.append("ffffffff82100000 T last_without_newline");
        Path file = Files.writeString(directory.resolve("kallsyms"), text);
        KernelSymbols read = KernelSymbols.read(file);
        KernelSymbols parsed = parse(text.toString());
        assertThat(read.size()).isEqualTo(parsed.size()).isEqualTo(5002);
        for (int i = 0; i < 5000; i += 97) {
            long address = 0xffffffff81000000L + 0x100L * i + 0x10;
            assertThat(read.resolve(address)).isEqualTo(parsed.resolve(address))
                    .isEqualTo("function_" + i + "+0x10" + (i % 7 == 0 ? " [module_" + i + "]" : ""));
        }
        assertThat(read.resolve(0xffffffff82000001L)).isEqualTo("x".repeat(100_000) + "+0x1");
        assertThat(read.resolve(0xffffffff82100002L)).isEqualTo("last_without_newline+0x2");
    }
}
