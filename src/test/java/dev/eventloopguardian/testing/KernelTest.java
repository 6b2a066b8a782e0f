package dev.eventloopguardian.testing;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test that loads real programs into the running kernel. It is skipped, with the reason
 * printed, where the privileges are missing, and fails instead when
 * {@code EVENTLOOP_GUARDIAN_REQUIRE_KERNEL=1} (as in CI).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelCondition.class)
public @interface KernelTest {
}
