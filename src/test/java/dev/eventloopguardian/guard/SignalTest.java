package dev.eventloopguardian.guard;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SignalTest {
    @ParameterizedTest
    @ValueSource(strings = {"ABRT", "SIGABRT", "sigabrt", "abrt", "SigAbrt", "6", " 6 ", "06", "SIG6", "IOT", "SIGIOT"})
    void acceptsEveryFormOfAbort(String text) {
        assertThat(Signal.parse(text)).isEqualTo(Signal.SIGABRT);
    }

    @Test
    void parsesRealTimeSignalsAsUserSpaceNumbersThem() {
        assertThat(Signal.parse("SIGRTMIN+2").number()).isEqualTo(36);
        assertThat(Signal.parse("RTMIN").number()).isEqualTo(34);
        assertThat(Signal.parse("rtmin+0").number()).isEqualTo(34);
        assertThat(Signal.parse("sigrtmax").number()).isEqualTo(64);
        assertThat(Signal.parse("RTMAX-1").number()).isEqualTo(63);
        assertThat(Signal.parse("RTMIN+30").number()).isEqualTo(64);
    }

    @Test
    void knowsTheLinuxNumbers() {
        List<String> names = List.of("HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
                "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
                "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS");
        for (int i = 0; i < names.size(); i++) {
            assertThat(Signal.parse(names.get(i)).number()).as(names.get(i)).isEqualTo(i + 1);
            assertThat(new Signal(i + 1).name()).isEqualTo("SIG" + names.get(i));
        }
    }

    @Test
    void aliasesNameTheSameSignal() {
        assertThat(Signal.parse("IOT").name()).isEqualTo("SIGABRT");
        assertThat(Signal.parse("SIGPOLL").name()).isEqualTo("SIGIO");
        assertThat(Signal.parse("cld").name()).isEqualTo("SIGCHLD");
    }

    @Test
    void namesRealTimeSignalsFromRtmin() {
        assertThat(new Signal(34).name()).isEqualTo("SIGRTMIN");
        assertThat(new Signal(36).name()).isEqualTo("SIGRTMIN+2");
        assertThat(new Signal(64).name()).isEqualTo("SIGRTMAX");
        assertThat(new Signal(32).name()).isEqualTo("SIG32");
        assertThat(Signal.SIGABRT).hasToString("SIGABRT");
    }

    @Test
    void everyNameParsesBackToItsNumber() {
        IntStream.rangeClosed(1, 64).forEach(n ->
                assertThat(Signal.parse(new Signal(n).name()).number()).as("%d", n).isEqualTo(n));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "65", "-1", "-6", "99999999999", "SIG0", "sig65"})
    void rejectsNumbersOutsideOneToSixtyFour(String text) {
        assertThatThrownBy(() -> Signal.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + text + "' is out of range").hasMessageContaining("1-64")
                .hasMessageContaining("SIGRTMIN+2");
    }

    @Test
    void theConstructorChecksTheRangeToo() {
        assertThatThrownBy(() -> new Signal(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1-64");
        assertThatThrownBy(() -> new Signal(65)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void suggestsTheNameATypoMeant() {
        assertThatThrownBy(() -> Signal.parse("ABORT")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown signal 'ABORT'").hasMessageContaining("did you mean SIGABRT?")
                .hasMessageContaining("ABRT, SIGABRT, sigabrt").hasMessageContaining("1-64");
        assertThatThrownBy(() -> Signal.parse("SIGKIL")).hasMessageContaining("did you mean SIGKILL?");
        assertThatThrownBy(() -> Signal.parse("terminate")).hasMessageContaining("did you mean SIGTERM?");
        assertThatThrownBy(() -> Signal.parse("SIGSEGVV")).hasMessageContaining("did you mean SIGSEGV?");
        assertThatThrownBy(() -> Signal.parse("bogus")).hasMessageNotContaining("did you mean")
                .hasMessageContaining("unknown signal 'bogus'. Use a name");
        assertThatThrownBy(() -> Signal.parse("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsMalformedRealTimeSignals() {
        assertThatThrownBy(() -> Signal.parse("RTMIN-1")).hasMessageContaining("use RTMIN+n or RTMAX-n");
        assertThatThrownBy(() -> Signal.parse("RTMAX+1")).hasMessageContaining("use RTMIN+n or RTMAX-n");
        assertThatThrownBy(() -> Signal.parse("RTMIN+")).hasMessageContaining("use RTMIN+n or RTMAX-n");
        assertThatThrownBy(() -> Signal.parse("RTMIN+31")).hasMessageContaining("out of range");
    }

    @Test
    void dumpsCoreExactlyWhereSignal7SaysCore() {
        List<Integer> core = IntStream.rangeClosed(1, 64).filter(n -> new Signal(n).dumpsCore()).boxed().toList();
        assertThat(core).containsExactly(3, 4, 5, 6, 7, 8, 11, 24, 25, 31);
        assertThat(Signal.SIGABRT.dumpsCore()).isTrue();
        assertThat(Signal.parse("KILL").dumpsCore()).isFalse();
    }
}
