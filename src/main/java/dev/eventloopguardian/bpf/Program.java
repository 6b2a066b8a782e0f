package dev.eventloopguardian.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An assembled program: its instruction slots, plus the label names and comments the
 * assembler was given, kept only to print a readable listing.
 */
public final class Program {
    private final List<Instruction> instructions;
    private final Map<Integer, String> labelsAt;
    private final Map<Integer, String> comments;

    Program(List<Instruction> instructions, Map<Integer, String> labelsAt, Map<Integer, String> comments) {
        this.instructions = List.copyOf(instructions);
        this.labelsAt = new TreeMap<>(labelsAt);
        this.comments = new TreeMap<>(comments);
    }

    /** A program without labels or comments, e.g. decoded from bytes. */
    public static Program of(List<Instruction> instructions) {
        return new Program(instructions, Map.of(), Map.of());
    }

    public static Program decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        List<Instruction> decoded = new java.util.ArrayList<>();
        while (in.remaining() >= Instruction.BYTES) {
            decoded.add(Instruction.decode(in));
        }
        return of(decoded);
    }

    public List<Instruction> instructions() {
        return instructions;
    }

    /** Instruction slots, as the kernel counts them ({@code insn_cnt}); a 64-bit load counts twice. */
    public int size() {
        return instructions.size();
    }

    /** The kernel helpers the program calls, in the order of their first call. */
    public java.util.Set<Helper> helpersCalled() {
        java.util.Set<Helper> called = new java.util.LinkedHashSet<>();
        for (Instruction insn : instructions) {
            if (insn.code() == (Opcode.CLASS_JMP | Opcode.CALL)) {
                for (Helper helper : Helper.values()) {
                    if (helper.id() == insn.imm()) {
                        called.add(helper);
                    }
                }
            }
        }
        return called;
    }

    public byte[] bytes() {
        ByteBuffer out = ByteBuffer.allocate(instructions.size() * Instruction.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        instructions.forEach(insn -> insn.encode(out));
        return out.array();
    }

    /**
     * One line per instruction in the verifier log's syntax, jumps naming their labels and
     * comments after a {@code ;}, e.g. {@code    7: if r7 == 0xe8 goto allow    ; epoll_wait}.
     */
    public String listing() {
        StringBuilder out = new StringBuilder();
        for (int pc = 0; pc < instructions.size(); pc++) {
            String label = labelsAt.get(pc);
            if (label != null) {
                out.append(label).append(":\n");
            }
            Instruction insn = instructions.get(pc);
            Instruction next = pc + 1 < instructions.size() ? instructions.get(pc + 1) : null;
            String target = insn.isJump() ? targetName(pc + 1 + insn.off()) : null;
            String text = String.format("%4d: %s", pc, insn.format(target, next));
            String comment = comments.get(pc);
            if (comment != null) {
                text = String.format("%-44s ; %s", text, comment);
            }
            out.append(text).append('\n');
            if (insn.isWideLoad()) {
                pc++;
            }
        }
        return out.toString();
    }

    private String targetName(int pc) {
        String label = labelsAt.get(pc);
        return label != null ? label : "pc" + pc;
    }

    @Override
    public String toString() {
        return listing();
    }
}
