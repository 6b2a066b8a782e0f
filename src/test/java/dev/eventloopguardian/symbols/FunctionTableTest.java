package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.eventloopguardian.symbols.SymbolTableBytes.FUNC;
import static dev.eventloopguardian.symbols.SymbolTableBytes.GLOBAL;
import static dev.eventloopguardian.symbols.SymbolTableBytes.IFUNC;
import static dev.eventloopguardian.symbols.SymbolTableBytes.LOCAL;
import static dev.eventloopguardian.symbols.SymbolTableBytes.OBJECT;
import static dev.eventloopguardian.symbols.SymbolTableBytes.WEAK;
import static org.assertj.core.api.Assertions.assertThat;

/** Symbol tables built by hand: which symbols count and which name an address gets. */
class FunctionTableTest {
    @Test
    void namesTheFunctionThatCoversTheAddressAndNothingPastItsEnd() {
        FunctionTable table = new SymbolTableBytes()
                .add("first", GLOBAL, FUNC, 0x1000, 0x40)
                .add("second", GLOBAL, FUNC, 0x1100, 0x10)
                .build();
        assertThat(table.resolve(0x1000)).isEqualTo("first+0x0");
        assertThat(table.resolve(0x103f)).isEqualTo("first+0x3f");
        assertThat(table.resolve(0x1040)).as("padding after first").isNull();
        assertThat(table.resolve(0x1104)).isEqualTo("second+0x4");
        assertThat(table.resolve(0xfff)).isNull();
    }

    @Test
    void prefersTheNamePeopleCallAmongAliases() {
        // libc: nanosleep (weak) and __nanosleep (global); clock_nanosleep and the debug file's
        // __GI___clock_nanosleep (local); the order in the table must not matter.
        FunctionTable table = new SymbolTableBytes()
                .add("__nanosleep", GLOBAL, FUNC, 0xd3e40, 49)
                .add("nanosleep", WEAK, FUNC, 0xd3e40, 49)
                .add("__GI___clock_nanosleep", LOCAL, FUNC, 0xcf4e0, 134)
                .add("__clock_nanosleep", GLOBAL, FUNC, 0xcf4e0, 134)
                .add("clock_nanosleep", GLOBAL, FUNC, 0xcf4e0, 134)
                .build();
        assertThat(table.resolve(0xd3e44)).isEqualTo("nanosleep+0x4");
        assertThat(table.resolve(0xcf503)).isEqualTo("clock_nanosleep+0x23");
        assertThat(table.size()).isEqualTo(2);
    }

    @Test
    void onlyDefinedCodeCounts() {
        FunctionTable table = new SymbolTableBytes()
                .add("imported", GLOBAL, FUNC, 0, 0x2000, 0)
                .add("a_variable", GLOBAL, OBJECT, 0x3000, 0x100)
                .add("memcpy", GLOBAL, IFUNC, 0x4000, 0x40)
                .build();
        assertThat(table.resolve(0x2000)).isNull();
        assertThat(table.resolve(0x3010)).isNull();
        assertThat(table.resolve(0x4008)).isEqualTo("memcpy+0x8");
    }

    @Test
    void aNestedSymbolDoesNotHideTheFunctionAroundIt() {
        FunctionTable table = new SymbolTableBytes()
                .add("outer", GLOBAL, FUNC, 0x1000, 0x100)
                .add("outer_inner_label", LOCAL, FUNC, 0x1020, 0x8)
                .build();
        assertThat(table.resolve(0x1024)).isEqualTo("outer_inner_label+0x4");
        assertThat(table.resolve(0x1080)).isEqualTo("outer+0x80");
    }

    @Test
    void anAssemblyLabelWithoutSizeReachesToTheNextSymbol() {
        FunctionTable table = new SymbolTableBytes()
                .add("_start", GLOBAL, FUNC, 0x1000, 0)
                .add("main", GLOBAL, FUNC, 0x1100, 0x20)
                .build();
        assertThat(table.resolve(0x10ff)).isEqualTo("_start+0xff");
        assertThat(table.resolve(0x1100)).isEqualTo("main+0x0");
    }

    @Test
    void theLoadBiasComesFromTheSegmentNotTheFileOffset() {
        // lld lays out text with p_vaddr one page past p_offset (Rust's libstd here: 0x7a260 vs
        // 0x7b260). A runtime address maps to a file offset through its mapping, and the file
        // offset to st_value through the PT_LOAD segment holding it.
        FunctionTable functions = new SymbolTableBytes().add("f", GLOBAL, FUNC, 0x7b300, 0x40).build();
        ElfSymbols elf = ElfSymbols.of(List.of(
                new ElfReader.Segment(ElfReader.PT_LOAD, 4, 0, 0, 0x7a260),
                new ElfReader.Segment(ElfReader.PT_LOAD, 5, 0x7a260, 0x7b260, 0x100000)), functions, null);
        assertThat(elf.vaddr(0x7a310)).isEqualTo(0x7b310);
        assertThat(elf.fileOffset(0x7b310)).isEqualTo(0x7a310);
        assertThat(elf.function(0x7a310)).isEqualTo("f+0x10");
        assertThat(elf.function(0x7b310)).as("reading st_value as a file offset would miss").isNull();
        assertThat(elf.vaddr(0x200000)).as("past every segment").isEqualTo(-1);

        // The mapping: text mapped from file offset 0x7a000 at 0x7f0000000000, so the runtime
        // address of f is start - offset + (st_value - p_vaddr + p_offset) = start + 0x300.
        long start = 0x7f0000000000L;
        long mappingOffset = 0x7a000;
        long runtime = start - mappingOffset + (0x7b300 - 0x7b260 + 0x7a260);
        assertThat(runtime).isEqualTo(start + 0x300);
        assertThat(elf.function(runtime + 0x10 - start + mappingOffset)).isEqualTo("f+0x10");
    }
}
