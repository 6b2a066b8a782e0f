package dev.eventloopguardian.symbols;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MappingTest {
    @Test
    void parsesAFileMapping() {
        Mapping libc = Mapping.parseLine("7eff8e242000-7eff8e398000 r-xp 00026000 fe:00 339380"
                + "                     /usr/lib/x86_64-linux-gnu/libc.so.6");
        assertThat(libc).isEqualTo(new Mapping(0x7eff8e242000L, 0x7eff8e398000L, true, 0x26000, 0xfe, 0, 339380,
                "/usr/lib/x86_64-linux-gnu/libc.so.6", false));
        assertThat(libc.isFile()).isTrue();
        assertThat(libc.fileName()).isEqualTo("libc.so.6");
        assertThat(libc.mapFilesName()).isEqualTo("7eff8e242000-7eff8e398000");
    }

    @Test
    void keepsSpacesInPathsAndNotesDeletedFiles() {
        Mapping deleted = Mapping.parseLine("7f0000000000-7f0000001000 r-xp 00001000 08:01 42   /tmp/my dir/libx.so (deleted)");
        assertThat(deleted.name()).isEqualTo("/tmp/my dir/libx.so");
        assertThat(deleted.deleted()).isTrue();
        assertThat(deleted.fileName()).isEqualTo("libx.so");
    }

    @Test
    void parsesAnonymousAndPseudoMappings() {
        Mapping anonymous = Mapping.parseLine("7f0000000000-7f0000100000 rwxp 00000000 00:00 0 ");
        assertThat(anonymous.name()).isEmpty();
        assertThat(anonymous.executable()).isTrue();
        assertThat(anonymous.isFile()).isFalse();
        assertThat(Mapping.parseLine("7f0000000000-7f0000100000 rw-p 00000000 00:00 0").name()).isEmpty();
        assertThat(Mapping.parseLine("7ffd12340000-7ffd12342000 r-xp 00000000 00:00 0    [vdso]").name())
                .isEqualTo("[vdso]");
        assertThat(Mapping.parseLine("7f0000000000-7f0000100000 rw-p 00000000 00:00 0    [anon:libc_malloc]").name())
                .isEqualTo("[anon:libc_malloc]");
        assertThat(Mapping.parseLine("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]").start())
                .isEqualTo(0xffffffffff600000L);
    }

    @Test
    void anonymousCodeIsWhereJitCompilersPutTheirs() {
        assertThat(Mapping.parseLine("7f0000000000-7f0000100000 rwxp 00000000 00:00 0 ").isAnonymousCode()).isTrue();
        assertThat(Mapping.parseLine("7f0000000000-7f0000100000 r-xp 00000000 00:00 0    [anon:v8 code]").isAnonymousCode())
                .isTrue();
        assertThat(Mapping.parseLine("7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ").isAnonymousCode())
                .as("not executable").isFalse();
        assertThat(Mapping.parseLine("7ffd12340000-7ffd12342000 r-xp 00000000 00:00 0    [vdso]").isAnonymousCode()).isFalse();
        assertThat(Mapping.parseLine("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]").isAnonymousCode())
                .isFalse();
        assertThat(Mapping.parseLine("7eff8e242000-7eff8e398000 r-xp 00026000 fe:00 339380 /usr/lib/libc.so.6")
                .isAnonymousCode()).isFalse();
    }

    @Test
    void sortsAndSkipsWhatItCannotParse() {
        List<Mapping> mappings = Mapping.parse("""
                7f0000002000-7f0000003000 r-xp 00000000 00:00 0
                not a mapping
                00400000-0041f000 r--p 00000000 fe:00 260811   /usr/bin/python3.11
                """);
        assertThat(mappings).extracting(Mapping::start).containsExactly(0x400000L, 0x7f0000002000L);
    }
}
