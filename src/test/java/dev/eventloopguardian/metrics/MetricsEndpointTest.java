package dev.eventloopguardian.metrics;

import dev.eventloopguardian.btf.Btf;
import dev.eventloopguardian.guard.Guard;
import dev.eventloopguardian.guard.Policy;
import dev.eventloopguardian.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The endpoint as a library user (watch, later) sees it: it serves, and once closed leaves nothing behind. */
@KernelTest
class MetricsEndpointTest {
    @Test
    void servesTheGuardsHealthAndLeavesNoThreadNorPortOnceClosed() throws Exception {
        try (Guard guard = Guard.load(Policy.builder().report(true).build(), Btf.VMLINUX)) {
            MetricsAddress address;
            try (MetricsEndpoint endpoint = MetricsEndpoint.serve(MetricsAddress.parse("127.0.0.1:0"), guard);
                 HttpClient http = HttpClient.newHttpClient()) {
                address = endpoint.address();
                assertThat(address.port()).as("the port the system picked").isPositive();
                String text = http.send(HttpRequest.newBuilder(URI.create(address.url())).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(text).contains("eventloop_guardian_guard_attached 0.0", "eventloop_guardian_dropped_events_total 0.0",
                        "eventloop_guardian_program_instructions " + guard.program().size() + ".0");
                endpoint.observer().guarding(ProcessHandle.current().pid(), true);
                text = http.send(HttpRequest.newBuilder(URI.create(address.url())).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(text).contains("eventloop_guardian_guard_attached 1.0", "eventloop_guardian_guarded_processes ");
            }

            assertThatThrownBy(() -> new Socket(address.host(), address.port()).close()).isInstanceOf(ConnectException.class);
            assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                    .noneMatch(name -> name.equals("metrics-http") || name.startsWith("HTTP-Dispatcher"));
        }
    }

    @Test
    void anAddressInUseIsRefusedWithNothingStarted() throws Exception {
        try (Guard guard = Guard.load(Policy.builder().report(true).build(), Btf.VMLINUX);
             ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> MetricsEndpoint.serve(new MetricsAddress("127.0.0.1", taken.getLocalPort()), guard))
                    .isInstanceOf(BindException.class);
            assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName).doesNotContain("metrics-http");
        }
    }
}
