package dev.eventloopguardian.agent;

import dev.eventloopguardian.jvm.Agent;

import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Starts the agent ({@link Agent}) on Java 25 or newer, for {@link AgentBootstrap}: from the agent
 * jar loaded again as a module of its own, in a layer of its own, with native access enabled for
 * that module alone.
 *
 * <ul>
 *   <li><b>Its own module</b>, because the JDK keeps native access per named module but one flag
 *       for all unnamed modules: on the class path, the agent's restricted calls (FFM downcalls,
 *       symbol lookup) make the JDK print its four-line warning into the application's stderr
 *       (and a future JDK will refuse them), and the one remedy there, enabling native access for
 *       the unnamed modules, would enable it for the whole application's class path too.</li>
 *   <li><b>Its own class loader</b> (the layer's, whose parent is the platform class loader), so
 *       that the agent and its shaded dependencies never resolve a class from the application's
 *       class path, nor the application one of ours through the agent.</li>
 *   <li><b>Native access</b> is enabled the JDK's own way for modules of a layer
 *       ({@code JavaLangAccess.addEnableNativeAccess}, what {@code ModuleLayer.Controller.enableNativeAccess}
 *       does), reached through the {@link Instrumentation} every agent gets: it exports
 *       {@code java.base}'s {@code jdk.internal.access} to the agent's module only, and the call
 *       is made from inside that module ({@link NativeAccess}). The public
 *       {@code Controller.enableNativeAccess} is of no use here: it is itself restricted, and its
 *       caller would be this class, on the class path, without native access.</li>
 * </ul>
 *
 * <p>Where any of this fails (a jar of a name no module can have, a JDK without that internal
 * method), the agent runs from the class path as it always did: it guards all the same, and the
 * JDK's warning, which then appears, names the remedy ({@code --enable-native-access=ALL-UNNAMED}).
 * A diagnostic must not stop an application for want of a quieter start.
 *
 * <p>The application's own use of the library, with the jar on its class path, is untouched: those
 * classes are the class path's, a copy apart from the agent's.
 */
public final class AgentLayer {
    /** The agent this JVM's loads go to: one layer per JVM, so that a second load finds the first one's guardian. */
    private static Class<?> agent;

    private AgentLayer() {
    }

    /** {@link Agent#premain} of the agent's own module. */
    public static void premain(String arguments, Instrumentation instrumentation) throws Throwable {
        start("premain", arguments, instrumentation);
    }

    /** {@link Agent#agentmain} of the agent's own module. */
    public static void agentmain(String arguments, Instrumentation instrumentation) throws Throwable {
        start("agentmain", arguments, instrumentation);
    }

    /**
     * Calls {@code entry} of the agent with the thread's context class loader set to the agent's
     * for the time of the call (and so for the threads the agent starts): a {@link java.util.ServiceLoader}
     * in the agent's code must find the providers of its own module, not the class path's copies,
     * which implement the class path's interfaces.
     */
    private static void start(String entry, String arguments, Instrumentation instrumentation) throws Throwable {
        Class<?> agentClass = agentClass(instrumentation);
        Thread thread = Thread.currentThread();
        ClassLoader context = thread.getContextClassLoader();
        thread.setContextClassLoader(agentClass.getClassLoader());
        try {
            // a method handle throws what the agent throws, as the JVM's own call would
            MethodHandles.publicLookup()
                    .findStatic(agentClass, entry, MethodType.methodType(void.class, String.class, Instrumentation.class))
                    .invoke(arguments, instrumentation);
        } finally {
            thread.setContextClassLoader(context);
        }
    }

    private static synchronized Class<?> agentClass(Instrumentation instrumentation) {
        if (agent == null) {
            try {
                Module module = defineModule(jarOf(AgentLayer.class));
                enableNativeAccess(module, instrumentation);
                agent = Class.forName(Agent.class.getName(), false, module.getClassLoader());
            } catch (RuntimeException | ReflectiveOperationException | LinkageError e) {
                // Not worth a line of its own on the application's stderr: the JDK's warning follows.
                agent = Agent.class;
            }
        }
        return agent;
    }

    /** The jar {@code type} was loaded from. */
    static Path jarOf(Class<?> type) {
        try {
            Path jar = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException(type.getName() + " was not loaded from a jar but from " + jar);
            }
            return jar;
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code jar} as an automatic module (its name derived from the jar's, as on the module path)
     * in a new layer over the boot layer, whose one class loader has the platform class loader as
     * parent. An automatic module reads every module of the boot layer, and exports and opens all
     * of its packages, so reflection and JFR reach its classes as they reach the class path's.
     */
    static Module defineModule(Path jar) {
        ModuleFinder finder = ModuleFinder.of(jar);
        Set<ModuleReference> modules = finder.findAll();
        if (modules.size() != 1) {
            throw new IllegalStateException(jar + " is " + modules.size() + " modules, not one");
        }
        String name = modules.iterator().next().descriptor().name();
        ModuleLayer boot = ModuleLayer.boot();
        Configuration configuration = boot.configuration().resolve(finder, ModuleFinder.of(), Set.of(name));
        return boot.defineModulesWithOneLoader(configuration, ClassLoader.getPlatformClassLoader())
                .findModule(name).orElseThrow();
    }

    /**
     * Enables native access for {@code module} (of a layer of ours), unless it has it already.
     *
     * @throws IllegalStateException when the JDK does not enable it
     */
    static void enableNativeAccess(Module module, Instrumentation instrumentation) throws ReflectiveOperationException {
        if (module.isNativeAccessEnabled()) {
            return;
        }
        instrumentation.redefineModule(Object.class.getModule(), Set.of(),
                Map.of(NativeAccess.INTERNAL_PACKAGE, Set.of(module)), Map.of(), Set.of(), Map.of());
        // The module's own copy of NativeAccess: the package is exported to that module, not to ours.
        Class.forName(NativeAccess.class.getName(), true, module.getClassLoader()).getMethod("enableForOwnModule").invoke(null);
        if (!module.isNativeAccessEnabled()) {
            throw new IllegalStateException("the JDK did not enable native access for " + module);
        }
    }
}
