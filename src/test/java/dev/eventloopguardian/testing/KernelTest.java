package dev.eventloopguardian.testing;

import dev.eventloopguardian.bpf.Feature;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test that loads real programs into the running kernel. It is skipped, with the reason
 * printed, where the privileges or a kernel feature it {@link #needs()} are missing, and fails
 * instead when {@code EVENTLOOP_GUARDIAN_REQUIRE_KERNEL=1} (as in CI), or when the kernel is
 * recent enough that it should have had the feature.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelCondition.class)
public @interface KernelTest {
    /**
     * The kernel features the test uses. The default is everything the guard uses
     * ({@link Feature#guard()}, which a unit test keeps equal to this list); a test that only
     * needs privileges says {@code needs = {}}.
     */
    Feature[] needs() default {Feature.KERNEL_BTF, Feature.PERF_EVENT_PROGRAM, Feature.HASH_MAP, Feature.ARRAY_MAP,
            Feature.PERCPU_ARRAY_MAP,
            Feature.RINGBUF, Feature.GET_STACK, Feature.SEND_SIGNAL_THREAD, Feature.RINGBUF_HELPERS,
            Feature.GET_CURRENT_TASK_BTF, Feature.TASK_PT_REGS};
}
