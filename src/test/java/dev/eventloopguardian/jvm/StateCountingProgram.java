package dev.eventloopguardian.jvm;

import dev.eventloopguardian.bpf.AluOp;
import dev.eventloopguardian.bpf.Assembler;
import dev.eventloopguardian.bpf.BpfException;
import dev.eventloopguardian.bpf.BpfMap;
import dev.eventloopguardian.bpf.Helper;
import dev.eventloopguardian.bpf.JumpOp;
import dev.eventloopguardian.bpf.LoadedProgram;
import dev.eventloopguardian.bpf.MapType;
import dev.eventloopguardian.bpf.Program;
import dev.eventloopguardian.bpf.ProgramType;
import dev.eventloopguardian.bpf.Reg;
import dev.eventloopguardian.bpf.Size;
import dev.eventloopguardian.guard.KernelLayout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * A perf_event program that, at each switch-out of its thread into an interruptible sleep
 * inside {@code futex}, reads the thread's {@code OSThread::_state} with
 * {@code bpf_probe_read_user} from the address user space stored under the tid, and counts the
 * value in an array: the classification a JVM-aware guard would make, counted instead of acted on.
 *
 * <pre>
 * if !(task->__state &amp; TASK_INTERRUPTIBLE) || regs->orig_ax != futex: return
 * address = addresses[tid]                 else count[NO_ADDRESS]
 * state = probe_read_user(4 bytes, address) else count[UNREADABLE]
 * count[state &lt;= MAX_STATE ? state : OUT_OF_RANGE] += 1
 * </pre>
 */
final class StateCountingProgram implements AutoCloseable {
    /** Counters 0..MAX_STATE are the states' own values; the last three say why none was read. */
    static final int MAX_STATE = 12;
    static final int OUT_OF_RANGE = 13;
    static final int UNREADABLE = 14;
    static final int NO_ADDRESS = 15;
    static final int COUNTERS = 16;
    private static final int TASK_INTERRUPTIBLE = 0x1;
    private static final int MAX_THREADS = 4096;
    private static final int TID_SLOT = -8;
    private static final int STATE_SLOT = -16;
    private static final int INDEX_SLOT = -4;

    private final BpfMap addresses;
    private final BpfMap counts;
    private final LoadedProgram program;

    StateCountingProgram(KernelLayout layout, int futex) throws BpfException {
        addresses = BpfMap.create(MapType.HASH, "elg_osthread", Integer.BYTES, Long.BYTES, MAX_THREADS);
        counts = BpfMap.create(MapType.ARRAY, "elg_states", Integer.BYTES, Long.BYTES, COUNTERS);
        try {
            program = LoadedProgram.load(ProgramType.PERF_EVENT, "elg_osstate", emit(layout, futex));
        } catch (BpfException e) {
            close();
            throw e;
        }
    }

    private Program emit(KernelLayout layout, int futex) {
        KernelLayout.Field state = layout.taskState();
        KernelLayout.Field nr = layout.syscallNumber();
        return new Assembler()
                .call(Helper.GET_CURRENT_TASK_BTF)
                .load(state.size(), Reg.R1, Reg.R0, state.offset()).comment(state.expression())
                .alu32(AluOp.AND, Reg.R1, TASK_INTERRUPTIBLE)
                .jump32(JumpOp.JEQ, Reg.R1, 0, "out").comment("preempted, not going to sleep")
                .mov(Reg.R1, Reg.R0)
                .call(Helper.TASK_PT_REGS)
                .load(nr.size(), Reg.R1, Reg.R0, nr.offset()).comment(nr.expression())
                .jump32(JumpOp.JNE, Reg.R1, futex, "out").comment("not futex")
                .call(Helper.GET_CURRENT_PID_TGID)
                .store(Size.W, Reg.R10, TID_SLOT, Reg.R0).comment("the key: the tid, the low half")
                .loadMapFd(Reg.R1, addresses.fd()).comment("tid -> &OSThread::_state")
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, TID_SLOT)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jump(JumpOp.JEQ, Reg.R0, 0, "no_address")
                .load(Size.DW, Reg.R3, Reg.R0, 0).comment("the user address")
                .mov(Reg.R1, Reg.R10)
                .alu(AluOp.ADD, Reg.R1, STATE_SLOT)
                .mov(Reg.R2, Integer.BYTES)
                .call(Helper.PROBE_READ_USER).comment("the thread's own memory: it is current")
                .jump(JumpOp.JNE, Reg.R0, 0, "unreadable")
                .load(Size.W, Reg.R6, Reg.R10, STATE_SLOT)
                .jump(JumpOp.JGT, Reg.R6, MAX_STATE, "out_of_range")
                .jump("count")
                .label("no_address")
                .mov(Reg.R6, NO_ADDRESS)
                .jump("count")
                .label("unreadable")
                .mov(Reg.R6, UNREADABLE)
                .jump("count")
                .label("out_of_range")
                .mov(Reg.R6, OUT_OF_RANGE)
                .label("count")
                .store(Size.W, Reg.R10, INDEX_SLOT, Reg.R6)
                .loadMapFd(Reg.R1, counts.fd())
                .mov(Reg.R2, Reg.R10)
                .alu(AluOp.ADD, Reg.R2, INDEX_SLOT)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jump(JumpOp.JEQ, Reg.R0, 0, "out")
                .mov(Reg.R1, 1)
                .atomicAdd(Size.DW, Reg.R0, 0, Reg.R1).comment("counts[index] += 1")
                .label("out")
                .mov(Reg.R0, 0)
                .exit()
                .assemble();
    }

    /** Tells the program where each thread's state is. */
    void putAddresses(Map<Integer, Long> stateAddresses) throws BpfException {
        for (Map.Entry<Integer, Long> thread : stateAddresses.entrySet()) {
            addresses.update(littleEndian(Integer.BYTES).putInt(thread.getKey()).array(),
                    littleEndian(Long.BYTES).putLong(thread.getValue()).array());
        }
    }

    /** The counters now: index {@code v <= MAX_STATE} is the state value {@code v}. */
    long[] counts() throws BpfException {
        long[] values = new long[COUNTERS];
        for (int i = 0; i < COUNTERS; i++) {
            values[i] = counts.lookupLong(i);
        }
        return values;
    }

    int fd() {
        return program.fd();
    }

    private static ByteBuffer littleEndian(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }

    @Override
    public void close() {
        if (program != null) {
            program.close();
        }
        counts.close();
        addresses.close();
    }
}
