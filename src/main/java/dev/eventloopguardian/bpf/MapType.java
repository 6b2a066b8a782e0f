package dev.eventloopguardian.bpf;

/** Map types we create ({@code enum bpf_map_type} in include/uapi/linux/bpf.h). */
public enum MapType {
    /** Keys and values of any size, looked up by content. */
    HASH(1),
    /** {@code max_entries} values indexed by a u32 key, all present from creation, zeroed. */
    ARRAY(2),
    /** An {@link #ARRAY} with a value per CPU: a program's scratch space, which no other CPU touches meanwhile. */
    PERCPU_ARRAY(6),
    /**
     * A multi-producer, single-consumer queue of variable-size records from programs to user
     * space; {@code max_entries} is its size in bytes. Read it with {@link RingBuffer}.
     */
    RINGBUF(27),
    /**
     * A value per task, held by the task and freed with it; programs reach it from a task
     * pointer, user space by a pidfd. Needs BTF for its key and value ({@link BpfMap#createTaskStorage}).
     */
    TASK_STORAGE(29);

    final int id;

    MapType(int id) {
        this.id = id;
    }
}
