package dev.eventloopguardian.report;

import java.util.List;

/**
 * Several observers followed as one, for a session that serves metrics and sends OTLP at once.
 * Each hears every call, in the order given.
 */
public final class SessionObservers {
    private SessionObservers() {
    }

    /**
     * {@code observers} as one; {@link SessionObserver#NONE} when none of them follows anything, so
     * that a session without any builds no {@link ReportedSleep} per event, and the one itself when
     * it is alone.
     */
    public static SessionObserver of(SessionObserver... observers) {
        List<SessionObserver> following = java.util.Arrays.stream(observers)
                .filter(observer -> observer != SessionObserver.NONE).toList();
        return switch (following.size()) {
            case 0 -> SessionObserver.NONE;
            case 1 -> following.getFirst();
            default -> new All(following);
        };
    }

    private record All(List<SessionObserver> observers) implements SessionObserver {
        @Override
        public void guarding(long pid, boolean inherited) {
            observers.forEach(observer -> observer.guarding(pid, inherited));
        }

        @Override
        public void detached() {
            observers.forEach(SessionObserver::detached);
        }

        @Override
        public void reported(ReportedSleep sleep) {
            observers.forEach(observer -> observer.reported(sleep));
        }

        @Override
        public void woke(ReportedSleep sleep, long offCpuNanos) {
            observers.forEach(observer -> observer.woke(sleep, offCpuNanos));
        }
    }
}
