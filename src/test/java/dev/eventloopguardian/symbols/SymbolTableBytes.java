package dev.eventloopguardian.symbols;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** An ELF64 symbol table and its string table, built by hand for tests. */
final class SymbolTableBytes {
    static final int FUNC = 2;
    static final int OBJECT = 1;
    static final int IFUNC = 10;
    static final int LOCAL = 0;
    static final int GLOBAL = 1;
    static final int WEAK = 2;

    private record Symbol(int name, int binding, int type, int section, long value, long size) {
    }

    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final List<Symbol> symbols = new ArrayList<>();

    SymbolTableBytes() {
        strings.write(0);
    }

    SymbolTableBytes add(String name, int binding, int type, long value, long size) {
        return add(name, binding, type, 14, value, size);
    }

    SymbolTableBytes add(String name, int binding, int type, int section, long value, long size) {
        int offset = strings.size();
        strings.writeBytes(name.getBytes(StandardCharsets.UTF_8));
        strings.write(0);
        symbols.add(new Symbol(offset, binding, type, section, value, size));
        return this;
    }

    ByteBuffer symbols() {
        // Entry 0 is the null symbol, as in every real table.
        ByteBuffer table = ByteBuffer.allocate(24 * (symbols.size() + 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < symbols.size(); i++) {
            Symbol s = symbols.get(i);
            int at = 24 * (i + 1);
            table.putInt(at, s.name());
            table.put(at + 4, (byte) (s.binding() << 4 | s.type()));
            table.putShort(at + 6, (short) s.section());
            table.putLong(at + 8, s.value());
            table.putLong(at + 16, s.size());
        }
        return table;
    }

    ByteBuffer strings() {
        return ByteBuffer.wrap(strings.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    }

    FunctionTable build() {
        return new FunctionTable.Builder().add(symbols(), strings()).build();
    }
}
