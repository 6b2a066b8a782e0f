package dev.eventloopguardian.btf;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The kernel's own description of its types (BTF), read to find where fields live in the running
 * kernel instead of hard-coding offsets that move between builds. Launch time matters, so nothing
 * is read or decoded ahead of need: a lookup reads the pages and indexes the type records it
 * touches, and the guard's lookups in the 5.5 MB, 126k-type vmlinux take about a millisecond
 * from a cold start. Instances may be shared between threads.
 */
public final class Btf {
    public static final Path VMLINUX = Path.of("/sys/kernel/btf/vmlinux");

    private final Blob blob;
    private final TypeTable types;
    private final MemberLookup lookup;

    private Btf(Blob blob, TypeTable types) {
        this.blob = blob;
        this.types = types;
        this.lookup = new MemberLookup(types);
    }

    /** The running kernel's BTF, from {@link #VMLINUX}. */
    public static Btf vmlinux() throws BtfException {
        return read(VMLINUX);
    }

    /** BTF from a file: the kernel's, or one made for a kernel built without it (e.g. from BTFHub). */
    public static Btf read(Path path) throws BtfException {
        Blob blob;
        try {
            blob = Blob.of(path.toFile());
        } catch (FileNotFoundException e) {
            if (Files.exists(path)) {
                throw new BtfException("cannot open " + e.getMessage() + (Files.isReadable(path) ? ""
                        : ": the kernel makes it readable by everyone, so a container or security policy is"
                        + " hiding it"), e);
            }
            throw new BtfException("no kernel BTF at " + path + ": eventloop-guardian needs a kernel built with"
                    + " CONFIG_DEBUG_INFO_BTF=y (Linux 5.5 or newer; most distributions since 2020 ship it)", e);
        } catch (IOException e) {
            throw new BtfException("cannot read " + path + ": " + e.getMessage(), e);
        }
        try {
            return new Btf(blob, TypeTable.parse(blob, path.toString()));
        } catch (UncheckedIOException e) {
            throw new BtfException(e.getMessage(), e.getCause());
        } finally {
            blob.release();
        }
    }

    /** BTF from any blob in the kernel's format, such as a module's or one built by a test. */
    public static Btf parse(byte[] data) throws BtfException {
        Blob blob = Blob.of(data);
        return new Btf(blob, TypeTable.parse(blob, "the given blob"));
    }

    /**
     * The byte offset and size of {@code memberPath} inside {@code struct}, such as
     * {@code member("task_struct", "__state")}. A dotted path ({@code "thread_info.flags"}) walks
     * into named sub-structs; fields of anonymous struct and union members are found by name as if
     * they were direct members, at their accumulated offset, as C11 does. {@code struct} names a
     * struct or union (the one with members, never a forward declaration), or a typedef of one.
     *
     * @throws BtfException when the struct or a member is absent (with the closest names), or the
     *                      member is a bitfield, which cannot be loaded as a plain field
     */
    public synchronized Member member(String struct, String memberPath) throws BtfException {
        try {
            return lookup.resolve(struct, memberPath, true);
        } catch (UncheckedIOException e) {
            throw new BtfException(e.getMessage(), e.getCause());
        } finally {
            blob.release();
        }
    }

    /**
     * Like {@link #member}, but empty when the struct or a member on the path is absent: for fields
     * that only some kernels have.
     *
     * @throws IllegalArgumentException when the member exists but cannot be read as a plain field
     * @throws IllegalStateException    when the BTF cannot be read
     */
    public synchronized Optional<Member> findMember(String struct, String memberPath) {
        try {
            return Optional.ofNullable(lookup.resolve(struct, memberPath, false));
        } catch (BtfException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } finally {
            blob.release();
        }
    }

    /**
     * The id of the type of kind {@code kindName} ("struct", "func", "typedef", ... as in btf.h,
     * any case) named {@code name}; for a struct or union, the one with members rather than a bare
     * declaration.
     *
     * @throws IllegalArgumentException for a kind name btf.h does not define
     * @throws IllegalStateException    when the BTF cannot be read
     */
    public synchronized OptionalInt typeId(String kindName, String name) {
        int kind = Kind.parse(kindName);
        try {
            int id = types.find(name.getBytes(StandardCharsets.UTF_8), kind, kind);
            return id == 0 ? OptionalInt.empty() : OptionalInt.of(id);
        } catch (BtfException | UncheckedIOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } finally {
            blob.release();
        }
    }

    @Override
    public String toString() {
        return "Btf[" + types.source + "]";
    }
}
