package dev.eventloopguardian.btf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BtfTest {
    /** Type ids of the fixture that tests refer to. */
    private int forwardTask;
    private int emptyTask;
    private int task;
    private int doWork;

    /**
     * A kernel-like fixture. Every kind with a trailer comes before the structs, so a wrong trailer
     * size would make the structs unreachable. Byte offsets of struct task are in the comments.
     */
    private BtfBuilder fixture() {
        BtfBuilder b = new BtfBuilder();
        int u8 = b.integer("unsigned char", 1);
        int u32 = b.integer("unsigned int", 4);
        int u64 = b.integer("long unsigned int", 8);
        int s32 = b.integer("int", 4, BtfBuilder.SIGNED, 32, 0);
        int index = b.integer("__ARRAY_SIZE_TYPE__", 4);
        b.floating("double", 8);
        int u32t = b.typedef("u32", u32);
        int stateType = b.constant(b.volatileOf(b.restrict(u32t)));
        doWork = b.function("do_work", b.functionProto(s32, u32, u64));
        b.dataSection(".data..percpu", b.variable("runqueues", u64), b.variable("current_task", u64));
        int mode = b.enumeration("mode", 4, "MODE_A", "MODE_B", "MODE_C");
        int wide = b.enumeration64("wide", "WIDE_A", "WIDE_B");
        int userU32 = b.typeTag("user", u32);
        forwardTask = b.forward("task");
        emptyTask = b.struct("task", 0).add();
        int inner = b.struct("inner", 16).member("a", u32, 0).member("b", u64, 64).add();
        int innerT = b.typedef("inner_t", inner);
        int halves = b.struct(null, 8).member("lo", u32, 0).member("hi", u32, 32).add();
        int raw = b.union(null, 8).member("raw", u64, 0).member(null, halves, 0).add();
        int row = b.array(u32, index, 3);
        task = b.struct("task", 120)
                .member("flags", u32, 0)                          // 0
                .member("state", stateType, 32)                   // 4: const volatile restrict u32
                .member(null, raw, 64)                            // 8: raw; lo 8, hi 12
                .member("info", inner, 128)                       // 16: info.a 16, info.b 24
                .member("alias", innerT, 256)                     // 32: alias.b 40
                .member("comm", b.array(u8, index, 16), 384)      // 48
                .member("next", b.pointer(forwardTask), 512)      // 64
                .member("mode", mode, 576)                        // 72
                .member("wide", wide, 640)                        // 80
                .member("user_value", userU32, 704)               // 88
                .member("matrix", b.array(row, index, 2), 768)    // 96: u32[2][3]
                .add();
        b.declTag("tagged", task, 0);
        b.struct("packed", 8)
                .bitfield("low", u32, 0, 3)
                .bitfield("high", u32, 3, 5)
                .bitfield("whole", u32, 32, 0)
                .add();
        b.struct("legacy", 8)
                .member("byte", u8, 0)
                .member("odd", u8, 12)
                .member("narrow", b.integer("unsigned int", 4, 0, 3, 0), 32)
                .add();
        b.typedef("atomic_t", b.struct(null, 4).member("counter", s32, 0).add());
        b.forward("only_declared");
        return b;
    }

    private Btf btf() throws BtfException {
        return Btf.parse(fixture().build());
    }

    @Test
    void findsDirectMembersWithSizesThroughQualifiersAndTypedefs() throws BtfException {
        Btf btf = btf();
        assertThat(btf.member("task", "flags")).isEqualTo(new Member("task", "flags", 0, 4));
        assertThat(btf.member("task", "state")).isEqualTo(new Member("task", "state", 4, 4));
        assertThat(btf.member("task", "info")).isEqualTo(new Member("task", "info", 16, 16));
        assertThat(btf.member("task", "comm")).isEqualTo(new Member("task", "comm", 48, 16));
        assertThat(btf.member("task", "next")).isEqualTo(new Member("task", "next", 64, 8));
        assertThat(btf.member("task", "mode")).isEqualTo(new Member("task", "mode", 72, 4));
        assertThat(btf.member("task", "wide")).isEqualTo(new Member("task", "wide", 80, 8));
        assertThat(btf.member("task", "user_value")).isEqualTo(new Member("task", "user_value", 88, 4));
        assertThat(btf.member("task", "matrix")).isEqualTo(new Member("task", "matrix", 96, 24));
    }

    @Test
    void findsFieldsOfAnonymousMembersAtTheirAccumulatedOffset() throws BtfException {
        Btf btf = btf();
        assertThat(btf.member("task", "raw")).isEqualTo(new Member("task", "raw", 8, 8));
        assertThat(btf.member("task", "lo")).isEqualTo(new Member("task", "lo", 8, 4));
        assertThat(btf.member("task", "hi")).isEqualTo(new Member("task", "hi", 12, 4));
    }

    @Test
    void walksDottedPathsIntoNamedStructsAndTypedefsOfThem() throws BtfException {
        Btf btf = btf();
        assertThat(btf.member("task", "info.a")).isEqualTo(new Member("task", "info.a", 16, 4));
        assertThat(btf.member("task", "info.b")).isEqualTo(new Member("task", "info.b", 24, 8));
        assertThat(btf.member("task", "alias.b")).isEqualTo(new Member("task", "alias.b", 40, 8));
        assertThat(btf.member("atomic_t", "counter")).isEqualTo(new Member("atomic_t", "counter", 0, 4));
    }

    @Test
    void picksTheStructWithMembersOverForwardAndEmptyDeclarations() throws BtfException {
        Btf btf = btf();
        assertThat(btf.typeId("struct", "task")).hasValue(task);
        assertThat(btf.typeId("fwd", "task")).hasValue(forwardTask);
        assertThat(task).isGreaterThan(emptyTask).isGreaterThan(forwardTask);
        assertThat(btf.member("task", "flags").offset()).isZero();
    }

    @Test
    void findsTypeIdsByKindName() throws BtfException {
        Btf btf = btf();
        assertThat(btf.typeId("func", "do_work")).hasValue(doWork);
        assertThat(btf.typeId("FUNC", "do_work")).hasValue(doWork);
        assertThat(btf.typeId("func", "do_play")).isEmpty();
        assertThat(btf.typeId("struct", "do_work")).isEmpty();
        assertThat(btf.typeId("int", "unsigned int")).hasValue(2);
        assertThatThrownBy(() -> btf.typeId("structure", "task"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown BTF kind \"structure\"").hasMessageContaining("func_proto");
    }

    @Test
    void rejectsBitfieldsEncodedWithKindFlag() throws BtfException {
        Btf btf = btf();
        assertThatThrownBy(() -> btf.member("packed", "low"))
                .isInstanceOf(BtfException.class)
                .hasMessageContaining("packed.low is a bitfield (3 bits at bit offset 0)")
                .hasMessageContaining("cannot be loaded as a plain field");
        assertThatThrownBy(() -> btf.member("packed", "high")).hasMessageContaining("5 bits at bit offset 3");
        assertThat(btf.member("packed", "whole")).isEqualTo(new Member("packed", "whole", 4, 4));
    }

    @Test
    void rejectsBitfieldsEncodedTheOldWay() throws BtfException {
        Btf btf = btf();
        assertThat(btf.member("legacy", "byte")).isEqualTo(new Member("legacy", "byte", 0, 1));
        assertThatThrownBy(() -> btf.member("legacy", "odd")).hasMessageContaining("legacy.odd is a bitfield");
        assertThatThrownBy(() -> btf.member("legacy", "narrow")).hasMessageContaining("legacy.narrow is a bitfield (3 bits");
        assertThatThrownBy(() -> btf.findMember("legacy", "odd")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void findMemberIsEmptyOnlyForAbsentStructsAndMembers() throws BtfException {
        Btf btf = btf();
        assertThat(btf.findMember("task", "hi")).contains(new Member("task", "hi", 12, 4));
        assertThat(btf.findMember("task", "__state")).isEmpty();
        assertThat(btf.findMember("task", "info.c")).isEmpty();
        assertThat(btf.findMember("no_such_struct", "flags")).isEmpty();
    }

    @Test
    void honoursALongerHeaderAndTheOtherByteOrder() throws BtfException {
        for (BtfBuilder builder : new BtfBuilder[] {fixture().headerLength(32), fixture().headerLength(26),
                fixture().order(ByteOrder.BIG_ENDIAN).headerLength(40)}) {
            Btf btf = Btf.parse(builder.build());
            assertThat(btf.member("task", "hi")).isEqualTo(new Member("task", "hi", 12, 4));
            assertThat(btf.member("task", "alias.b").offset()).isEqualTo(40);
            assertThat(btf.typeId("func", "do_work")).hasValue(doWork);
        }
    }

    @Test
    void readsFilesLargerThanAPageWithRecordsAndNamesAcrossPageBoundaries(@TempDir Path dir)
            throws IOException, BtfException {
        BtfBuilder builder = new BtfBuilder().headerLength(26);
        int u32 = builder.integer("unsigned int", 4);
        for (int i = 0; i < 3000; i++) {
            builder.typedef("filler_type_with_a_long_name_" + i, u32);
        }
        int last = builder.struct("far_away_struct", 8).member("x", u32, 0).member("far_away_field", u32, 32).add();
        Path file = dir.resolve("vmlinux");
        Files.write(file, builder.build());

        Btf btf = Btf.read(file);
        assertThat(btf.member("far_away_struct", "far_away_field")).isEqualTo(new Member("far_away_struct",
                "far_away_field", 4, 4));
        assertThat(btf.typeId("typedef", "filler_type_with_a_long_name_2999")).hasValue(last - 1);
        assertThat(btf.typeId("struct", "far_away_struct")).hasValue(last);
    }

    @Test
    void explainsAMissingStructWithTheClosestNames() throws BtfException {
        Btf btf = btf();
        assertThatThrownBy(() -> btf.member("tsak", "flags"))
                .isInstanceOf(BtfException.class)
                .hasMessageStartingWith("no struct or union \"tsak\" in the given blob; closest: task");
        assertThatThrownBy(() -> btf.member("only_declared", "x"))
                .hasMessageContaining("only forward-declared there, without its members");
    }

    @Test
    void explainsAMissingMemberWithTheClosestNamesIncludingAnonymousOnes() throws BtfException {
        Btf btf = btf();
        assertThatThrownBy(() -> btf.member("task", "__state"))
                .isInstanceOf(BtfException.class)
                .hasMessageStartingWith("struct task has no member \"__state\" in the given blob; closest: state");
        assertThatThrownBy(() -> btf.member("task", "high"))
                .hasMessageContaining("it has: flags, state, raw, lo, hi, ...");
        assertThatThrownBy(() -> btf.member("task", "info.c"))
                .hasMessageStartingWith("task.info (struct inner) has no member \"c\" in the given blob; closest: a, b");
    }

    @Test
    void refusesToWalkThroughPointersAndScalars() throws BtfException {
        Btf btf = btf();
        assertThatThrownBy(() -> btf.member("task", "next.flags"))
                .hasMessage("task.next is a pointer to struct task, not a struct or union, so it has no member"
                        + " \"flags\"; following a pointer takes a separate load");
        assertThatThrownBy(() -> btf.member("task", "flags.x"))
                .hasMessageContaining("task.flags is unsigned int, not a struct or union");
        assertThatThrownBy(() -> btf.member("task", "info..a")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> btf.member("atomic_t", "count"))
                .hasMessageStartingWith("atomic_t has no member \"count\" in the given blob; closest: counter");
    }

    @Test
    void rejectsDataThatIsNotBtf() {
        assertThatThrownBy(() -> Btf.parse("\u007fELF\2\1\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".getBytes()))
                .isInstanceOf(BtfException.class)
                .hasMessage("the given blob is not BTF data: it starts with bytes 7f 45, not the BTF magic 0xeB9F");
        assertThatThrownBy(() -> Btf.parse(new byte[0])).hasMessageContaining("is not BTF data");
    }

    @Test
    void rejectsTruncatedData() {
        byte[] blob = fixture().build();
        assertThatThrownBy(() -> Btf.parse(Arrays.copyOf(blob, 12)))
                .hasMessage("the given blob is truncated: 12 bytes, shorter than the 24-byte BTF header");
        assertThatThrownBy(() -> Btf.parse(Arrays.copyOf(blob, blob.length - 1)))
                .hasMessage("the given blob is truncated: its header describes " + blob.length + " bytes but there are only "
                        + (blob.length - 1));
    }

    @Test
    void rejectsOtherVersionsAndCorruptHeaders() {
        assertThatThrownBy(() -> Btf.parse(fixture().version(2).build()))
                .hasMessage("the given blob is BTF version 2; eventloop-guardian reads version 1");
        byte[] shortHeader = fixture().build();
        shortHeader[4] = 20;
        assertThatThrownBy(() -> Btf.parse(shortHeader)).hasMessageContaining("its header length is 20");
    }

    @Test
    void reportsRecordsThatRunPastTheTypeSectionWhenALookupReachesThem() throws BtfException {
        BtfBuilder builder = fixture();
        Btf shortRecord = Btf.parse(builder.build(builder.typeSectionLength() - 4));
        assertThat(shortRecord.member("task", "hi").offset()).isEqualTo(12);
        assertThatThrownBy(() -> shortRecord.member("no_such_struct", "x"))
                .hasMessage("the given blob is truncated: type #36 starts 8 bytes before the end of the type"
                        + " section, too short for a type record");
        // The last 28 bytes are a 12-byte FWD, a 12-byte TYPEDEF and the 24-byte anonymous struct's end.
        Btf shortMembers = Btf.parse(builder.build(builder.typeSectionLength() - 28));
        assertThatThrownBy(() -> shortMembers.member("no_such_struct", "x"))
                .hasMessage("the given blob is truncated: type #34 (struct) runs past the end of the type section");
    }

    @Test
    void reportsKindsItDoesNotKnow() throws BtfException {
        BtfBuilder builder = new BtfBuilder();
        builder.integer("int", 4);
        builder.unknownKind(25);
        Btf btf = Btf.parse(builder.build());
        assertThatThrownBy(() -> btf.member("task", "x"))
                .hasMessage("the given blob: type #2 has BTF kind 25, which this version of eventloop-guardian does"
                        + " not know; please report it with the output of `uname -r`");
        assertThatThrownBy(() -> btf.typeId("func", "f")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kind 25");
    }

    @Test
    void reportsReferencesToTypesThatDoNotExist() throws BtfException {
        BtfBuilder builder = new BtfBuilder();
        builder.struct("broken", 8).member("x", 999, 0).add();
        Btf btf = Btf.parse(builder.build());
        assertThatThrownBy(() -> btf.member("broken", "x"))
                .hasMessage("the given blob is corrupt: it refers to type #999, which does not exist");
    }

    @Test
    void explainsAMissingFileWithTheKernelOptionItNeeds(@TempDir Path dir) {
        Path missing = dir.resolve("vmlinux");
        assertThatThrownBy(() -> Btf.read(missing))
                .isInstanceOf(BtfException.class)
                .hasMessage("no kernel BTF at " + missing + ": eventloop-guardian needs a kernel built with"
                        + " CONFIG_DEBUG_INFO_BTF=y (Linux 5.5 or newer; most distributions since 2020 ship it)");
    }

    @Test
    void suggestsByEditsAndByContainmentElseListsWhatExists() {
        assertThat(Closest.describe("stat", java.util.List.of("flags", "state", "stats"), 2))
                .isEqualTo("; closest: state, stats");
        assertThat(Closest.describe("orig_rax", java.util.List.of("orig_ax", "ax", "bx"), 3)).isEqualTo("; closest: orig_ax");
        assertThat(Closest.describe("zz", java.util.List.of("a", "b", "c"), 2)).isEqualTo("; it has: a, b, ...");
    }
}
