package dev.eventloopguardian.jvm;

/**
 * HotSpot's {@code enum ThreadState}, the state hint in {@code OSThread::_state}
 * ({@code src/hotspot/share/runtime/osThreadBase.hpp} in JDK 24 and later, {@code osThread.hpp}
 * before). The numbers are read from the running JVM ({@link HotSpotLayout#stateValue}), which
 * exports each name as an int constant; the order here is the header's.
 *
 * <p>Who sets what, in JDK 25's sources: {@code OSThreadWaitState(osthread, false)} sets
 * {@link #CONDVAR_WAIT} around {@code Parker::park} (os_posix.cpp: {@code LockSupport.park}),
 * {@code JavaThread::sleep_nanos} ({@code Thread.sleep}) and also {@code Monitor::wait}
 * (mutex.cpp), the VM's own monitors, such as {@code VMOperation_lock}, on which a thread waits
 * for a GC it asked for; {@code OSThreadWaitState(osthread, true)} sets {@link #OBJECT_WAIT} in
 * {@code ObjectMonitor::wait}; {@code OSThreadContendState} sets {@link #MONITOR_WAIT} in
 * {@code ObjectMonitor::enter} when contended. A safepoint ({@code SafepointSynchronize::block})
 * and a contended VM {@code Mutex::lock} leave the state as it was. {@link #SLEEPING} is
 * declared but no longer set.
 */
public enum OsThreadState {
    ALLOCATED,
    INITIALIZED,
    RUNNABLE,
    MONITOR_WAIT,
    CONDVAR_WAIT,
    OBJECT_WAIT,
    BREAKPOINTED,
    SLEEPING,
    ZOMBIE
}
