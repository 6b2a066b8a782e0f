package dev.eventloopguardian.guard;

import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.bpf.Instruction;
import dev.eventloopguardian.bpf.Program;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.OptionalInt;

/**
 * Runs a guard program on a made-up task, the way the kernel would, for the instruction forms
 * the generator emits. Lets tests check the program's decision for every syscall number
 * without a kernel; the kernel tests check that the real thing agrees.
 */
final class BpfSimulator {
    private static final long TASK = 0x1000_0000L;
    private static final long REGS = 0x2000_0000L;
    private static final long STACK = 0x3000_0000L;
    /** Where a map lookup's value lives: one value, the Java thread's entry. */
    private static final long MAP_VALUE = 0x4000_0000L;
    /** A reporting guard's maps: the thread's asleep task storage, the end reserved in the ring buffer, the drop counters. */
    private static final long ASLEEP_VALUE = 0x6000_0000L;
    private static final long RECORD = 0x7000_0000L;
    private static final long DROPS = 0x8000_0000L;
    /** A sched_switch program's context: u64 args {preempt, prev, next, prev_state}. */
    private static final long CTX = 0x9000_0000L;
    /** A reporting guard's per-CPU scratch record, which an event is built in. */
    private static final long SCRATCH = 0xa000_0000L;
    private static final int STACK_BYTES = 512;
    /** {@code BPF_F_USER_STACK}. */
    private static final long USER_STACK = 1 << 8;

    private final ByteBuffer task = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer regs = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer stack = ByteBuffer.allocate(STACK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private byte[] comm = new byte[16];
    private final ByteBuffer mapValue = ByteBuffer.allocate(JavaThreadWaits.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private int tid = 4242;
    private int javaThreadsFd = Integer.MIN_VALUE;
    private boolean knownJavaThread;
    private long userAddress;
    private Integer userValue;
    private int instructionsRun;
    private final ByteBuffer ctx = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    private int guardedThreadsFd = Integer.MIN_VALUE;
    private boolean marked;
    private final List<Integer> helpersCalled = new java.util.ArrayList<>();
    private ProgramMaps fds = ProgramMaps.PLACEHOLDER;
    private ReportMaps report;
    private int recordBytes;
    /** The record reserved in the ring buffer: an end. */
    private final ByteBuffer record = ByteBuffer.allocate(EventLayout.END_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private int kernelFrames;
    private int userFrames;

    /**
     * What a reporting guard's maps hold, kept across runs: each thread's asleep task storage (by
     * tid), the records submitted to the ring buffer and the drop counters; and the clock.
     */
    static final class ReportMaps {
        final ByteBuffer drops = ByteBuffer.allocate(8 * EventLayout.DROP_COUNTERS).order(ByteOrder.LITTLE_ENDIAN);
        final java.util.Map<Integer, ByteBuffer> asleep = new java.util.HashMap<>();
        final List<ByteBuffer> records = new java.util.ArrayList<>();
        /** The per-CPU scratch value: it keeps what the last run left there (a pattern at first), as the kernel's does. */
        final ByteBuffer scratch = ByteBuffer.wrap(filled(EventLayout.MAX_SIZE, (byte) 0xa5)).order(ByteOrder.LITTLE_ENDIAN);
        long clock = 1_000_000_000L;
        boolean ringFull;
        /** Task storage cannot be created: the kernel is out of memory for it. */
        boolean storageFull;

        long drops(int counter) {
            return drops.getLong(8 * counter);
        }
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        java.util.Arrays.fill(bytes, value);
        return bytes;
    }

    /** The thread's stacks have this many frames, which bpf_get_stack writes as far as there is room. */
    BpfSimulator stacks(int kernelFrames, int userFrames) {
        this.kernelFrames = kernelFrames;
        this.userFrames = userFrames;
        return this;
    }

    /** The frame bpf_get_stack writes at {@code index} of a stack: kernel addresses, or user ones. */
    static long frame(boolean user, int index) {
        return (user ? 0x7f00_0000_0000L : 0xffff_ffff_8100_0000L) + index;
    }

    /** The program's maps are {@code fds}, holding what {@code maps} holds. */
    BpfSimulator reporting(ProgramMaps fds, ReportMaps maps) {
        this.fds = fds;
        this.report = maps;
        return this;
    }

    /**
     * Runs as a program on sched_switch would: the context holds the switched-out task as
     * {@code prev} and its state as {@code prev_state}; the thread is {@code marked} in the task
     * storage map {@code mapFd}, or not.
     */
    BpfSimulator schedSwitch(int mapFd, boolean marked, int state) {
        guardedThreadsFd = mapFd;
        this.marked = marked;
        ctx.putLong(0, 0).putLong(8, TASK).putLong(16, 0x1000_8000L).putLong(24, state);
        return this;
    }

    /** The thread's {@code se.sum_exec_runtime}: how long it has run. */
    BpfSimulator runtime(KernelLayout layout, long nanos) {
        put(task, layout.runtime().orElseThrow(), nanos);
        return this;
    }

    /** The helpers the program called, in order. */
    List<Integer> helpersCalled() {
        return helpersCalled;
    }

    /** The thread's name, as bpf_get_current_comm returns it (NUL-padded, at most 15 characters). */
    BpfSimulator thread(String name) {
        comm = java.util.Arrays.copyOf(name.getBytes(java.nio.charset.StandardCharsets.UTF_8), 16);
        java.util.Arrays.fill(comm, Math.min(15, name.length()), 16, (byte) 0);
        return this;
    }

    /**
     * The switched-out thread is a JVM thread in the map with descriptor {@code mapFd}, whose
     * waits show as {@code waits} say; its wait state holds {@code state}, or is unreadable when null.
     */
    BpfSimulator javaThread(int mapFd, JavaThreadWaits waits, Integer state) {
        javaThreadsFd = mapFd;
        knownJavaThread = true;
        mapValue.putLong(JavaThreadWaits.STATE_ADDRESS, waits.stateAddress())
                .putLong(JavaThreadWaits.PARK_FROM, waits.parkFrom()).putLong(JavaThreadWaits.PARK_TO, waits.parkTo())
                .putLong(JavaThreadWaits.SLEEP_FROM, waits.sleepFrom()).putLong(JavaThreadWaits.SLEEP_TO, waits.sleepTo())
                .putLong(JavaThreadWaits.MONITOR_FROM, waits.monitorFrom()).putLong(JavaThreadWaits.MONITOR_TO, waits.monitorTo());
        userAddress = waits.stateAddress();
        userValue = state;
        return this;
    }

    /** The program reads a map with descriptor {@code mapFd} that does not hold this thread. */
    BpfSimulator unknownJavaThread(int mapFd) {
        javaThreadsFd = mapFd;
        knownJavaThread = false;
        return this;
    }

    /** Another thread than the default one, for the maps kept per thread. */
    BpfSimulator tid(int tid) {
        this.tid = tid;
        return this;
    }

    /** The switched-out thread: its {@code __state}, syscall number and first argument. */
    BpfSimulator(KernelLayout layout, int state, long syscallNumber, long firstArgument) {
        put(task, layout.taskState(), state);
        put(regs, layout.syscallNumber(), syscallNumber);
        put(regs, layout.firstArgument(), firstArgument);
    }

    private static void put(ByteBuffer memory, KernelLayout.Field field, long value) {
        switch (field.size()) {
            case B -> memory.put(field.offset(), (byte) value);
            case H -> memory.putShort(field.offset(), (short) value);
            case W -> memory.putInt(field.offset(), (int) value);
            case DW -> memory.putLong(field.offset(), value);
        }
    }

    int instructionsRun() {
        return instructionsRun;
    }

    /** Runs {@code program}; returns the signal it sent, if any. */
    OptionalInt run(Program program) {
        List<Instruction> code = program.instructions();
        long[] r = new long[11];
        r[10] = STACK + STACK_BYTES;
        r[1] = CTX;
        OptionalInt signal = OptionalInt.empty();
        for (int pc = 0; ; pc++) {
            if (++instructionsRun > 4096) {
                throw new AssertionError("runaway program");
            }
            Instruction insn = code.get(pc);
            int op = insn.code();
            int cls = op & 0x07;
            switch (cls) {
                case 0x07, 0x04 -> { // ALU64, ALU
                    long operand = (op & 0x08) != 0 ? r[insn.src()] : insn.imm();
                    long value = switch (op & 0xf0) {
                        case 0xb0 -> operand;
                        case 0x50 -> r[insn.dst()] & operand;
                        case 0x00 -> r[insn.dst()] + operand;
                        case 0x10 -> r[insn.dst()] - operand;
                        default -> throw new AssertionError("ALU op not simulated: " + Integer.toHexString(op));
                    };
                    r[insn.dst()] = cls == 0x04 ? value & 0xffff_ffffL : value;
                }
                case 0x01 -> r[insn.dst()] = load(r[insn.src()] + insn.off(), op & 0x18);
                case 0x03 -> {
                    long address = r[insn.dst()] + insn.off();
                    if ((op & 0xe0) == 0xc0) { // atomic
                        if (insn.imm() != 0x00) {
                            throw new AssertionError("atomic op not simulated: " + insn.imm());
                        }
                        store(address, op & 0x18, load(address, op & 0x18) + r[insn.src()], true);
                    } else {
                        store(address, op & 0x18, r[insn.src()], false);
                    }
                }
                case 0x02 -> store(r[insn.dst()] + insn.off(), op & 0x18, insn.imm(), false);
                case 0x00 -> { // the two-slot 64-bit immediate load
                    r[insn.dst()] = (insn.imm() & 0xffff_ffffL) | ((long) code.get(pc + 1).imm() << 32);
                    pc++;
                }
                case 0x05, 0x06 -> {
                    int jump = op & 0xf0;
                    if (jump == 0x90) {
                        return signal;
                    }
                    if (jump == 0x80) {
                        signal = call(insn.imm(), r, signal);
                        continue;
                    }
                    if (jump == 0x00 ? true : compare(jump, r[insn.dst()], (op & 0x08) != 0 ? r[insn.src()] : insn.imm(),
                            cls == 0x06)) {
                        pc += insn.off();
                    }
                }
                default -> throw new AssertionError("instruction class not simulated: " + Integer.toHexString(op));
            }
        }
    }

    private OptionalInt call(int helper, long[] r, OptionalInt signal) {
        OptionalInt sent = signal;
        helpersCalled.add(helper);
        if (report != null && callReport(helper, r)) {
            for (int i = 1; i <= 5; i++) {
                r[i] = 0xdead_beefL;
            }
            return sent;
        }
        if (helper == Helper.TASK_STORAGE_GET.id()) {
            if (r[1] != guardedThreadsFd || r[2] != TASK || r[3] != 0 || r[4] != 0) {
                throw new AssertionError("bpf_task_storage_get wants the guarded threads' map and prev, and creates nothing");
            }
            r[0] = marked ? MAP_VALUE : 0;
        } else if (helper == Helper.GET_CURRENT_TASK_BTF.id()) {
            r[0] = TASK;
        } else if (helper == Helper.TASK_PT_REGS.id()) {
            if (r[1] != TASK) {
                throw new AssertionError("bpf_task_pt_regs called without the task");
            }
            r[0] = REGS;
        } else if (helper == Helper.GET_CURRENT_COMM.id()) {
            boolean inRecord = report != null && r[1] >= SCRATCH && r[1] + 16 <= SCRATCH + EventLayout.MAX_SIZE;
            if (r[2] != 16 || !inRecord && (r[1] < STACK || r[1] + 16 > STACK + STACK_BYTES)) {
                throw new AssertionError("bpf_get_current_comm wants 16 bytes of stack or of the record");
            }
            (inRecord ? report.scratch : stack).put((int) (r[1] - (inRecord ? SCRATCH : STACK)), comm);
            r[0] = 0;
        } else if (helper == Helper.GET_CURRENT_PID_TGID.id()) {
            r[0] = (long) 4000 << 32 | tid;
        } else if (helper == Helper.MAP_LOOKUP_ELEM.id()) {
            if (r[1] != javaThreadsFd) {
                throw new AssertionError("lookup in an unknown map: " + r[1]);
            }
            if ((int) load(r[2], 0x00) != tid) {
                throw new AssertionError("the Java threads map is keyed by the tid");
            }
            r[0] = knownJavaThread ? MAP_VALUE : 0;
        } else if (helper == Helper.PROBE_READ_USER.id()) {
            if (r[2] != 4 || r[3] != userAddress || r[1] < STACK || r[1] + 4 > STACK + STACK_BYTES) {
                throw new AssertionError("bpf_probe_read_user wants 4 bytes from the state's address onto the stack");
            }
            if (userValue == null) {
                r[0] = -14; // -EFAULT
            } else {
                stack.putInt((int) (r[1] - STACK), userValue);
                r[0] = 0;
            }
        } else if (helper == Helper.SEND_SIGNAL_THREAD.id()) {
            sent = OptionalInt.of((int) r[1]);
            r[0] = 0;
        } else {
            throw new AssertionError("helper not simulated: " + helper);
        }
        for (int i = 1; i <= 5; i++) {
            r[i] = 0xdead_beefL; // calls clobber the argument registers
        }
        return sent;
    }

    /** The report's helpers: true when {@code helper} was one of them, on one of its maps. */
    private boolean callReport(int helper, long[] r) {
        if (helper == Helper.TASK_STORAGE_GET.id() && r[1] == fds.asleepFd()) {
            if (r[2] != TASK || r[3] != 0 || (r[4] & ~1L) != 0) {
                throw new AssertionError("bpf_task_storage_get wants this thread's task, no initial value, and at most F_CREATE");
            }
            if (!report.asleep.containsKey(tid) && r[4] == 1 && !report.storageFull) {
                report.asleep.put(tid, ByteBuffer.allocate(EventLayout.ASLEEP_VALUE_BYTES).order(ByteOrder.LITTLE_ENDIAN));
            }
            r[0] = report.asleep.containsKey(tid) ? ASLEEP_VALUE : 0;
        } else if (helper == Helper.TASK_STORAGE_DELETE.id() && r[1] == fds.asleepFd()) {
            if (r[2] != TASK) {
                throw new AssertionError("bpf_task_storage_delete wants this thread's task");
            }
            r[0] = report.asleep.remove(tid) == null ? -2 : 0;
        } else if (helper == Helper.MAP_LOOKUP_ELEM.id() && r[1] == fds.dropCounterFd()) {
            r[0] = DROPS + 8 * load(r[2], 0x00);
        } else if (helper == Helper.MAP_LOOKUP_ELEM.id() && r[1] == fds.recordScratchFd()) {
            if (load(r[2], 0x00) != 0) {
                throw new AssertionError("the scratch record is slot 0 of its array");
            }
            r[0] = SCRATCH;
        } else if (helper == Helper.RINGBUF_RESERVE.id()) {
            if (r[1] != fds.ringBufferFd() || r[2] != EventLayout.END_SIZE || r[3] != 0) {
                throw new AssertionError("only an end is reserved in the ring buffer: " + r[1] + ", " + r[2] + " bytes");
            }
            recordBytes = (int) r[2];
            java.util.Arrays.fill(record.array(), (byte) 0);
            r[0] = report.ringFull ? 0 : RECORD;
        } else if (helper == Helper.RINGBUF_SUBMIT.id()) {
            if (r[1] != RECORD) {
                throw new AssertionError("submitted something not reserved: " + Long.toHexString(r[1]));
            }
            report.records.add(ByteBuffer.wrap(java.util.Arrays.copyOf(record.array(), recordBytes)).order(ByteOrder.LITTLE_ENDIAN));
        } else if (helper == Helper.RINGBUF_OUTPUT.id()) {
            if (r[1] != fds.ringBufferFd() || r[2] != SCRATCH || r[3] < 0 || r[3] > EventLayout.MAX_SIZE || r[4] != 0) {
                throw new AssertionError("bpf_ringbuf_output wants the events ring buffer and at most the scratch record, got "
                        + r[3] + " bytes");
            }
            if (report.ringFull) {
                r[0] = -11; // -EAGAIN
            } else {
                report.records.add(ByteBuffer.wrap(java.util.Arrays.copyOf(report.scratch.array(), (int) r[3])).order(ByteOrder.LITTLE_ENDIAN));
                r[0] = 0;
            }
        } else if (helper == Helper.KTIME_GET_NS.id()) {
            r[0] = report.clock;
        } else if (helper == Helper.GET_STACK.id()) {
            if (r[1] != CTX || r[2] < SCRATCH || r[2] + r[3] > SCRATCH + EventLayout.MAX_SIZE || r[3] % 8 != 0) {
                throw new AssertionError("bpf_get_stack writes whole frames inside the record, for the context");
            }
            boolean user = (r[4] & USER_STACK) != 0;
            int frames = (int) Math.min(user ? userFrames : kernelFrames, r[3] / 8);
            for (int i = 0; i < frames; i++) {
                report.scratch.putLong((int) (r[2] - SCRATCH) + 8 * i, frame(user, i));
            }
            r[0] = 8L * frames;
        } else {
            return false;
        }
        return true;
    }

    private ByteBuffer memoryAt(long base) {
        if (base == SCRATCH) {
            return report.scratch;
        }
        if (base == CTX) {
            return ctx;
        }
        if (base == DROPS) {
            return report.drops;
        }
        if (base == RECORD) {
            return record;
        }
        if (base == ASLEEP_VALUE) {
            return report.asleep.get(tid);
        }
        return base == MAP_VALUE ? mapValue : base == STACK ? stack : base == REGS ? regs : task;
    }

    private static long baseOf(long address) {
        for (long base : new long[] {SCRATCH, CTX, DROPS, RECORD, ASLEEP_VALUE, MAP_VALUE, STACK, REGS}) {
            if (address >= base) {
                return base;
            }
        }
        return TASK;
    }

    private long load(long address, int size) {
        long base = baseOf(address);
        ByteBuffer memory = memoryAt(base);
        int offset = (int) (address - base);
        return switch (size) {
            case 0x00 -> memory.getInt(offset) & 0xffff_ffffL;
            case 0x08 -> memory.getShort(offset) & 0xffffL;
            case 0x10 -> memory.get(offset) & 0xffL;
            default -> memory.getLong(offset);
        };
    }

    /**
     * A store: plain ones on the stack, into the record being written and into the thread's task
     * storage; counters are changed only by atomic adds, as on the kernel other CPUs add to them too.
     */
    private void store(long address, int size, long value, boolean atomic) {
        long base = baseOf(address);
        boolean writable = atomic ? base == DROPS
                : base == STACK && address < STACK + STACK_BYTES || base == RECORD || base == SCRATCH || base == ASLEEP_VALUE;
        if (!writable) {
            throw new AssertionError((atomic ? "an atomic add outside the counters: " : "a plain store outside the stack "
                    + "and the record: ") + Long.toHexString(address));
        }
        ByteBuffer memory = memoryAt(base);
        int offset = (int) (address - base);
        switch (size) {
            case 0x00 -> memory.putInt(offset, (int) value);
            case 0x08 -> memory.putShort(offset, (short) value);
            case 0x10 -> memory.put(offset, (byte) value);
            default -> memory.putLong(offset, value);
        }
    }

    private static boolean compare(int op, long left, long right, boolean low32) {
        long a = low32 ? left & 0xffff_ffffL : left;
        long b = low32 ? right & 0xffff_ffffL : right;
        long sa = low32 ? (int) left : left;
        long sb = low32 ? (int) right : right;
        return switch (op) {
            case 0x10 -> a == b;
            case 0x50 -> a != b;
            case 0x20 -> Long.compareUnsigned(a, b) > 0;
            case 0x30 -> Long.compareUnsigned(a, b) >= 0;
            case 0xa0 -> Long.compareUnsigned(a, b) < 0;
            case 0xb0 -> Long.compareUnsigned(a, b) <= 0;
            case 0x40 -> (a & b) != 0;
            case 0x60 -> sa > sb;
            case 0x70 -> sa >= sb;
            case 0xc0 -> sa < sb;
            case 0xd0 -> sa <= sb;
            default -> throw new AssertionError("jump op not simulated: " + Integer.toHexString(op));
        };
    }
}
