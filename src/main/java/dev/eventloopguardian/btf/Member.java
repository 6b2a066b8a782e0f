package dev.eventloopguardian.btf;

/**
 * Where a field lives inside {@code struct}: a byte {@code offset} from the start of the struct
 * (through named and anonymous members on {@code path}) and the field's {@code size} in bytes.
 */
public record Member(String struct, String path, int offset, int size) {
}
