package dev.eventloopguardian.agent;

import dev.eventloopguardian.jvm.Agent;
import dev.eventloopguardian.jvm.EventLoopThreads;
import dev.eventloopguardian.testing.AgentJar;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The agent's own module, as {@link AgentLayer} defines it from the agent jar, seen from this JVM's
 * class path: what must hold of it for the agent to run there as it ran on the class path. Native
 * access needs an agent's {@code Instrumentation}: {@code AgentTest} runs the agent.
 */
class AgentLayerTest {
    @TempDir
    static Path scratch;
    private static Module module;

    @BeforeAll
    static void defineTheAgentsModule() throws Exception {
        module = AgentLayer.defineModule(AgentJar.write(scratch.resolve("eventloop-guardian.jar")));
    }

    @Test
    void isANamedModuleWhoseClassesAreNotTheClassPaths() throws Exception {
        assertThat(module.getName()).isEqualTo("eventloop.guardian");
        Class<?> agent = Class.forName(Agent.class.getName(), false, module.getClassLoader());
        assertThat(agent).isNotSameAs(Agent.class);
        assertThat(agent.getModule()).isSameAs(module);
    }

    /** An application's classes, and the agent's shaded dependencies' twins on its class path, are not the agent's to see. */
    @Test
    void itsLoaderSeesThePlatformButNotTheClassPath() {
        assertThat(module.getClassLoader().getParent()).isSameAs(ClassLoader.getPlatformClassLoader());
        assertThatThrownBy(() -> Class.forName(AgentLayerTest.class.getName(), false, module.getClassLoader()))
                .isInstanceOf(ClassNotFoundException.class);
    }

    /**
     * The jar's {@code META-INF/services} become the module's providers: with its own loader as
     * the context class loader, which {@link AgentLayer} sets for the agent, {@code knownEventLoops()}
     * finds them as the class path's copy finds its own.
     */
    @Test
    void findsTheFrameworksOfItsOwnModule() throws Exception {
        Class<?> service = Class.forName(EventLoopThreads.class.getName(), false, module.getClassLoader());
        assertThat(ServiceLoader.load(service, module.getClassLoader()).stream())
                .hasSize(3)
                .allSatisfy(provider -> assertThat(provider.type().getModule()).isSameAs(module));
    }

    /** Run from a directory of classes, as here, there is no jar to load the module from: the agent stays on the class path. */
    @Test
    void aClassNotLoadedFromAJarHasNoModuleToBe() {
        assertThatThrownBy(() -> AgentLayer.jarOf(AgentLayer.class))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not loaded from a jar");
    }
}
