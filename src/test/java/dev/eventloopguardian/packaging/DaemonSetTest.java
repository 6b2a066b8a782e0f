package dev.eventloopguardian.packaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/kubernetes/daemonset.yaml, read as YAML and checked for what a user depends on: the node's processes, the
 * systemd unit's capabilities (and no privileged container), the host mounts, the command and its config, the
 * metrics port Prometheus is pointed at. Not applied to a cluster: these machines have none.
 */
class DaemonSetTest {
    private static final Path MANIFEST = Path.of("docs", "kubernetes", "daemonset.yaml");
    private static final Map<String, JsonNode> BY_KIND = new HashMap<>();
    private static JsonNode pod;
    private static JsonNode container;

    @BeforeAll
    static void read() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        try (var documents = yaml.readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(MANIFEST))) {
            for (JsonNode document : documents.readAll()) {
                assertThat(BY_KIND.put(document.path("kind").asText(), document)).as("one %s", document.path("kind")).isNull();
            }
        }
        assertThat(BY_KIND).containsOnlyKeys("Namespace", "ConfigMap", "DaemonSet");
        pod = BY_KIND.get("DaemonSet").at("/spec/template/spec");
        assertThat(pod.path("containers")).hasSize(1);
        container = pod.path("containers").get(0);
    }

    @Test
    void itSeesTheNodesProcessesWithTheUnitsCapabilitiesAndNoMore() throws Exception {
        assertThat(pod.path("hostPID").asBoolean()).as("hostPID").isTrue();
        assertThat(pod.path("hostNetwork").asBoolean(false)).as("hostNetwork").isFalse();

        JsonNode security = container.path("securityContext");
        assertThat(security.path("privileged").asBoolean(false)).as("privileged").isFalse();
        assertThat(security.path("allowPrivilegeEscalation").asBoolean(true)).isFalse();
        assertThat(texts(security.at("/capabilities/drop"))).containsExactly("ALL");
        Set<String> unit = SystemdUnitIT.capabilities(SystemdUnitIT.UNIT).stream()
                .map(capability -> capability.substring("CAP_".length())).collect(Collectors.toCollection(TreeSet::new));
        assertThat(new TreeSet<>(texts(security.at("/capabilities/add")))).as("the systemd unit's").isEqualTo(unit);
    }

    @Test
    void itMountsTheKernelsBtfAndTheCgroupsReadOnlyAndTheConfigMapWhereWatchReadsIt() {
        Map<String, JsonNode> volumes = new HashMap<>();
        pod.path("volumes").forEach(volume -> volumes.put(volume.path("name").asText(), volume));
        Map<String, JsonNode> mounts = new HashMap<>();
        container.path("volumeMounts").forEach(mount -> mounts.put(mount.path("mountPath").asText(), mount));

        for (String host : List.of("/sys/kernel/btf", "/sys/fs/cgroup")) {
            JsonNode mount = mounts.get(host);
            assertThat(mount).as("a mount at %s", host).isNotNull();
            assertThat(mount.path("readOnly").asBoolean()).as("%s read-only", host).isTrue();
            assertThat(volumes.get(mount.path("name").asText()).at("/hostPath/path").asText()).isEqualTo(host);
        }
        JsonNode config = mounts.get("/etc/eventloop-guardian");
        assertThat(config.path("readOnly").asBoolean()).isTrue();
        assertThat(volumes.get(config.path("name").asText()).at("/configMap/name").asText())
                .isEqualTo(BY_KIND.get("ConfigMap").at("/metadata/name").asText());
        assertThat(mounts).doesNotContainKey("/proc"); // hostPID gives the container the node's processes in its own /proc
    }

    @Test
    void itRunsWatchOnTheConfigMapsFileWhichIsTheExampleThePackageCarries() throws Exception {
        List<String> command = texts(container.path("command"));
        assertThat(command.getFirst()).endsWith("/bin/eventloop-guardian");
        assertThat(command.subList(1, 4)).containsExactly("watch", "--config", "/etc/eventloop-guardian/watch.toml");
        assertThat(BY_KIND.get("ConfigMap").at("/data/watch.toml").asText())
                .isEqualTo(Files.readString(Path.of("packaging", "watch.toml")));
        assertThat(BY_KIND.get("ConfigMap").at("/metadata/namespace").asText())
                .isEqualTo(BY_KIND.get("DaemonSet").at("/metadata/namespace").asText())
                .isEqualTo(BY_KIND.get("Namespace").at("/metadata/name").asText());
    }

    @Test
    void prometheusIsPointedAtThePortWatchServesMetricsOn() {
        List<String> command = texts(container.path("command"));
        String metrics = command.get(command.indexOf("--metrics") + 1);
        String port = metrics.substring(metrics.lastIndexOf(':') + 1);
        assertThat(metrics).as("reachable from the pod's network, not its loopback").startsWith("0.0.0.0:");

        JsonNode annotations = BY_KIND.get("DaemonSet").at("/spec/template/metadata/annotations");
        assertThat(annotations.path("prometheus.io/scrape").asText()).isEqualTo("true");
        assertThat(annotations.path("prometheus.io/port").asText()).isEqualTo(port);
        assertThat(annotations.path("prometheus.io/path").asText()).isEqualTo("/metrics");
        assertThat(container.at("/ports/0/containerPort").asText()).isEqualTo(port);
    }

    @Test
    void itHasResourceRequestsAndLimits() {
        JsonNode resources = container.path("resources");
        for (String kind : List.of("requests", "limits")) {
            assertThat(resources.at("/" + kind + "/cpu").asText()).as("%s.cpu", kind).isNotEmpty();
            assertThat(resources.at("/" + kind + "/memory").asText()).as("%s.memory", kind).endsWith("Mi");
        }
        int heapCap = 256;
        assertThat(Integer.parseInt(resources.at("/limits/memory").asText().replace("Mi", "")))
                .as("above the JVM's -Xmx256m, with room for code, metaspace and kallsyms").isGreaterThan(heapCap + 64);
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(node -> texts.add(node.asText()));
        return texts;
    }
}
