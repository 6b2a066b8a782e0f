package dev.eventloopguardian.guard;

import dev.eventloopguardian.sys.Arch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

class SyscallTableTest {
    private static final SyscallTable X86 = SyscallTable.of(Arch.X86_64);
    private static final SyscallTable ARM = SyscallTable.of(Arch.AARCH64);

    @Test
    void knowsTheX86NumbersEventLoopsSleepIn() {
        Map<String, Integer> expected = Map.ofEntries(Map.entry("read", 0), Map.entry("write", 1), Map.entry("poll", 7),
                Map.entry("nanosleep", 35), Map.entry("wait4", 61), Map.entry("futex", 202),
                Map.entry("epoll_wait_old", 215), Map.entry("restart_syscall", 219), Map.entry("clock_nanosleep", 230),
                Map.entry("epoll_wait", 232), Map.entry("pselect6", 270), Map.entry("ppoll", 271),
                Map.entry("epoll_pwait", 281), Map.entry("perf_event_open", 298), Map.entry("bpf", 321),
                Map.entry("uretprobe", 335), Map.entry("uprobe", 336), Map.entry("io_uring_enter", 426),
                Map.entry("epoll_pwait2", 441), Map.entry("futex_waitv", 449), Map.entry("futex_wake", 454),
                Map.entry("futex_wait", 455), Map.entry("mseal", 462), Map.entry("file_setattr", 469));
        expected.forEach((name, number) -> assertThat(X86.number(name)).as(name).hasValue(number));
    }

    @Test
    void knowsTheArm64NumbersEventLoopsSleepIn() {
        Map<String, Integer> expected = Map.ofEntries(Map.entry("epoll_pwait", 22), Map.entry("renameat", 38),
                Map.entry("read", 63), Map.entry("write", 64), Map.entry("pselect6", 72), Map.entry("ppoll", 73),
                Map.entry("newfstatat", 79), Map.entry("futex", 98), Map.entry("nanosleep", 101),
                Map.entry("clock_nanosleep", 115), Map.entry("restart_syscall", 128), Map.entry("getrlimit", 163),
                Map.entry("perf_event_open", 241), Map.entry("wait4", 260), Map.entry("bpf", 280),
                Map.entry("io_uring_enter", 426), Map.entry("epoll_pwait2", 441), Map.entry("memfd_secret", 447),
                Map.entry("futex_waitv", 449), Map.entry("futex_wait", 455), Map.entry("file_setattr", 469));
        expected.forEach((name, number) -> assertThat(ARM.number(name)).as(name).hasValue(number));
    }

    @Test
    void looksUpNamesByNumber() {
        assertThat(X86.name(281)).hasValue("epoll_pwait");
        assertThat(X86.name(215)).hasValue("epoll_wait_old");
        assertThat(ARM.name(22)).hasValue("epoll_pwait");
        assertThat(ARM.name(98)).hasValue("futex");
    }

    @Test
    void numbersWithNoSyscallHaveNoName() {
        assertThat(X86.name(-1)).as("not in a syscall").isEmpty();
        assertThat(X86.name(400)).as("the gap x86_64 keeps in step with the generic table").isEmpty();
        assertThat(X86.name(512)).as("x32 numbers are not x86_64's").isEmpty();
        assertThat(X86.name(470)).as("listns is Linux 6.19").isEmpty();
        assertThat(X86.name(Integer.MAX_VALUE)).isEmpty();
        assertThat(ARM.name(42)).as("nfsservctl left the generic table").isEmpty();
        assertThat(ARM.name(244)).as("arch-specific range, unused on arm64").isEmpty();
        assertThat(ARM.name(Integer.MIN_VALUE)).isEmpty();
    }

    @Test
    void arm64HasOnlyTheNewerFormsOfOldCalls() {
        for (String name : List.of("epoll_wait", "epoll_wait_old", "epoll_create", "poll", "select", "open", "pause",
                "fork", "uretprobe")) {
            assertThat(ARM.contains(name)).as(name).isFalse();
            assertThat(ARM.number(name)).as(name).isEmpty();
            assertThat(X86.contains(name)).as(name).isTrue();
        }
    }

    @Test
    void namesAreExactAndCaseSensitive() {
        assertThat(X86.number("EPOLL_WAIT")).isEmpty();
        assertThat(X86.number(" epoll_wait")).isEmpty();
        assertThat(X86.number("sys_epoll_wait")).isEmpty();
        assertThat(X86.contains("epoll_wait")).isTrue();
    }

    @Test
    void suggestsTheSyscallATypoMeant() {
        assertThat(X86.closest("epol_pwait", 3)).first().isEqualTo("epoll_pwait");
        assertThat(X86.closest("futx", 3)).first().isEqualTo("futex");
        assertThat(X86.closest("epollwait", 3)).first().isEqualTo("epoll_wait");
        assertThat(X86.closest("EPOLL_WAIT", 3)).first().isEqualTo("epoll_wait");
        assertThat(X86.closest("io_uring_wait", 3)).containsExactly("io_uring_enter", "io_uring_register", "io_uring_setup");
    }

    @Test
    void suggestsSyscallsThatContainAWord() {
        assertThat(X86.closest("sleep", 2)).containsExactly("nanosleep", "clock_nanosleep");
        assertThat(ARM.closest("select", 1)).containsExactly("pselect6");
    }

    @Test
    void stripsKernelSymbolPrefixes() {
        assertThat(X86.closest("__x64_sys_futex", 3)).first().isEqualTo("futex");
        assertThat(X86.closest("sys_epoll_wait", 3)).first().isEqualTo("epoll_wait");
        assertThat(ARM.closest("__arm64_sys_ppoll", 3)).first().isEqualTo("ppoll");
        assertThat(X86.closest("__NR_futex_waitv", 3)).first().isEqualTo("futex_waitv");
    }

    @Test
    void pointsArm64UsersToThePwaitForm() {
        assertThat(ARM.closest("epoll_wait", 3)).first().isEqualTo("epoll_pwait");
        assertThat(ARM.closest("poll", 3)).first().isEqualTo("ppoll");
    }

    @Test
    void suggestsNothingForNonsenseAndHonoursMax() {
        assertThat(X86.closest("qqqqqqqqqqqq", 3)).isEmpty();
        assertThat(X86.closest("", 3)).isEmpty();
        assertThat(X86.closest("futx", 0)).isEmpty();
        assertThat(X86.closest("epoll", 2)).hasSize(2);
        assertThat(X86.closest("epoll", 50)).doesNotHaveDuplicates().allMatch(name -> name.contains("poll"))
                .contains("epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_create");
    }

    @Test
    void namesAreSortedAndComplete() {
        List<String> names = new ArrayList<>(X86.names());
        assertThat(names).isSorted().doesNotHaveDuplicates().hasSize(383).contains("read", "file_setattr");
        assertThat(ARM.names()).hasSize(324);
        assertThatThrownBy(() -> X86.names().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void loadsEachTableOnce() {
        assertThat(SyscallTable.of(Arch.X86_64)).isSameAs(X86);
        assertThat(SyscallTable.of(Arch.AARCH64)).isSameAs(ARM).isNotSameAs(X86);
        assertThat(X86.arch()).isEqualTo(Arch.X86_64);
        assertThat(ARM.arch()).isEqualTo(Arch.AARCH64);
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void resourceHasOneUniqueNumberAndNamePerLine(Arch arch) throws IOException {
        String resource = "syscalls-" + arch.kernelName() + ".txt";
        String text;
        try (InputStream in = SyscallTable.class.getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        assertThat(text).startsWith("# ").contains("Linux 6.18");
        Set<Integer> numbers = new HashSet<>();
        Set<String> names = new HashSet<>();
        int previous = -1;
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            assertThat(line).matches("[0-9]+ [a-z_][a-z0-9_]*");
            String[] parts = line.split(" ");
            int number = Integer.parseInt(parts[0]);
            assertThat(numbers.add(number)).as("number %d once", number).isTrue();
            assertThat(names.add(parts[1])).as("%s once", parts[1]).isTrue();
            assertThat(number).as("in number order, like the kernel's table").isGreaterThan(previous);
            previous = number;
        }
        assertThat(SyscallTable.of(arch).names()).containsExactlyInAnyOrderElementsOf(names);
    }

    @Test
    void rejectsATableThatRepeatsANumberOrName() {
        assertThatThrownBy(() -> SyscallTable.parse(Arch.X86_64, "t", "# c\n0 read\n0 write\n"))
                .hasMessageContaining("t:3").hasMessageContaining("already read");
        assertThatThrownBy(() -> SyscallTable.parse(Arch.X86_64, "t", "0 read\n1 read\n"))
                .hasMessageContaining("t:2").hasMessageContaining("read is already number 0");
        assertThatThrownBy(() -> SyscallTable.parse(Arch.X86_64, "t", "read 0\n")).hasMessageContaining("bad number");
        assertThatThrownBy(() -> SyscallTable.parse(Arch.X86_64, "t", "1\n")).hasMessageContaining("NUMBER NAME");
    }

    @Test
    void parsesAnyNumberOrder() {
        SyscallTable table = SyscallTable.parse(Arch.AARCH64, "t", "900 late\n\n3 early");
        assertThat(table.name(900)).hasValue("late");
        assertThat(table.number("early")).hasValue(3);
        assertThat(table.name(901)).isEmpty();
    }

    /** The installed kernel headers were generated from the same table; they may be older, or newer. */
    @Test
    void agreesWithThisMachinesX86Headers() throws IOException {
        Path header = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
        assumeThat(Files.isReadable(header)).as("linux-libc-dev installed").isTrue();
        Map<String, Integer> fromHeader = new HashMap<>();
        for (String line : Files.readAllLines(header)) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 3 && parts[0].equals("#define") && parts[1].startsWith("__NR_")) {
                fromHeader.put(parts[1].substring(5), Integer.parseInt(parts[2]));
            }
        }
        assertThat(fromHeader).containsEntry("epoll_pwait", 281);
        int highest = X86.names().stream().mapToInt(name -> X86.number(name).orElseThrow()).max().orElseThrow();
        fromHeader.forEach((name, number) -> {
            if (number <= highest) {
                assertThat(X86.number(name)).as(name).hasValue(number);
            }
        });
    }
}
