package dev.eventloopguardian.agent;

/**
 * Enables native access for the module this class is in, for {@link AgentLayer}, which loads it in
 * the agent's module once {@link #INTERNAL_PACKAGE} is exported to that module. Reflection, rather
 * than a compile-time reference, keeps the build free of {@code --add-exports} and turns a JDK that
 * no longer has these internals into a {@link ReflectiveOperationException}, which leaves the agent
 * on the class path.
 */
public final class NativeAccess {
    /** The package of {@code SharedSecrets} and {@code JavaLangAccess}. */
    static final String INTERNAL_PACKAGE = "jdk.internal.access";

    private NativeAccess() {
    }

    /** {@code SharedSecrets.getJavaLangAccess().addEnableNativeAccess(own module)}. */
    public static void enableForOwnModule() throws ReflectiveOperationException {
        Object javaLangAccess = Class.forName(INTERNAL_PACKAGE + ".SharedSecrets").getMethod("getJavaLangAccess").invoke(null);
        Class.forName(INTERNAL_PACKAGE + ".JavaLangAccess").getMethod("addEnableNativeAccess", Module.class)
                .invoke(javaLangAccess, NativeAccess.class.getModule());
    }
}
