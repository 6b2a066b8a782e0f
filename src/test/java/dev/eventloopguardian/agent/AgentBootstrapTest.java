package dev.eventloopguardian.agent;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's Java 8 entry class; {@code AgentOnAnyJvmIT} runs it in an older JVM. */
class AgentBootstrapTest {
    /** Java 8's class file version: what every JVM that may load the jar as an agent can load. */
    private static final int JAVA_8_CLASS_FILE = 52;

    @Test
    void isAJava8ClassFile() throws IOException {
        try (InputStream in = AgentBootstrap.class.getResourceAsStream("AgentBootstrap.class");
             DataInputStream data = new DataInputStream(in)) {
            assertThat(data.readInt()).as("magic").isEqualTo(0xCAFEBABE);
            data.readUnsignedShort(); // minor
            assertThat(data.readUnsignedShort()).as("major version").isEqualTo(JAVA_8_CLASS_FILE);
        }
    }

    @Test
    void readsTheFeatureReleaseOfEitherVersionScheme() {
        assertThat(AgentBootstrap.featureVersion("1.8")).isEqualTo(8);
        assertThat(AgentBootstrap.featureVersion("11")).isEqualTo(11);
        assertThat(AgentBootstrap.featureVersion("17")).isEqualTo(17);
        assertThat(AgentBootstrap.featureVersion("25")).isEqualTo(25);
        assertThat(AgentBootstrap.featureVersion(System.getProperty("java.specification.version")))
                .isEqualTo(Runtime.version().feature());
    }

    @Test
    void aVersionItCannotReadIsTakenForANewJvm() {
        assertThat(AgentBootstrap.featureVersion("")).isGreaterThanOrEqualTo(AgentBootstrap.OLDEST_JAVA);
        assertThat(AgentBootstrap.featureVersion("experimental")).isGreaterThanOrEqualTo(AgentBootstrap.OLDEST_JAVA);
    }

    /** The bootstrap cannot call the agent's rule: the two must agree, or an old JVM would stop where a new one runs on. */
    @Test
    void asksRequiredAsTheAgentsOptionsDo() throws ReflectiveOperationException {
        Method agents = Class.forName("dev.eventloopguardian.jvm.AgentOptions").getDeclaredMethod("asksRequired", String.class);
        agents.setAccessible(true);
        List<String> arguments = List.of("", "threads=x", "threads=x,required=true", "required=true", "required=false",
                "threads=x,required=false", "required=", "required=yes", "threads=x\\,required=true", "threads=a\\\\,required=true",
                "threads=x,,required=true,", "required=true\\,more", "formt=json,required=true", "notrequired=true", "REQUIRED=true");
        for (String argument : arguments) {
            assertThat(AgentBootstrap.asksRequired(argument)).as(argument).isEqualTo(agents.invoke(null, argument));
        }
        assertThat(AgentBootstrap.asksRequired(null)).isFalse();
        assertThat(AgentBootstrap.asksRequired("threads=x,required=true")).as("the list has both answers").isTrue();
    }
}
