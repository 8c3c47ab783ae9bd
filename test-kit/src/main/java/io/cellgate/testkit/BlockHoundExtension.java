package io.cellgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import reactor.blockhound.BlockHound;

/**
 * Proves that no event loop blocks: BlockHound is installed once per test JVM (through the service
 * loader, like {@link LeakCheckExtension}); Netty's own BlockHound integration marks its event loop
 * threads as non-blocking. A blocking call on one (a sleep, a lock wait, blocking I/O) is recorded
 * with its stack, and the test class during which it happened fails.
 */
public final class BlockHoundExtension implements BeforeAllCallback, AfterAllCallback {
    private static final List<String> VIOLATIONS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    @Override
    public void beforeAll(ExtensionContext context) {
        install();
    }

    private static synchronized void install() {
        if (installed) {
            return;
        }
        BlockHound.Builder builder = BlockHound.builder();
        // The integrations on the class path (Netty's marks its event loop threads non-blocking).
        java.util.ServiceLoader.load(reactor.blockhound.integration.BlockHoundIntegration.class).forEach(builder::with);
        builder
                // The JDK's logging writes to stderr; the gateway logs rarely and never on a per-request path.
                .allowBlockingCallsInside("java.util.logging.Logger", "log")
                // gRPC servers (the admin API, the test AOs) hand each call from the event loop to their
                // application executor; the executor's queue takes a lock for the enqueue, which can park
                // for a moment when another thread holds it. That hand-off is what keeps handlers off the loop.
                .allowBlockingCallsInside("io.grpc.internal.SerializingExecutor", "schedule")
                // A gRPC server shutting down returns its shared timer on its boss loop: the release schedules
                // the timer's destruction for later, an enqueue under the scheduler's queue lock, as above.
                .allowBlockingCallsInside("io.grpc.internal.SharedResourceHolder", "releaseInternal")
                .blockingMethodCallback(method -> {
                    StringBuilder where = new StringBuilder(method + " on " + Thread.currentThread().getName());
                    for (StackTraceElement e : new Throwable().getStackTrace()) {
                        where.append("\n\tat ").append(e);
                    }
                    VIOLATIONS.add(where.toString());
                })
                .install();
        installed = true;
    }

    /** Takes the blocking calls recorded so far (for the test that proves detection works). */
    public static List<String> takeViolations() {
        install();
        List<String> found = List.copyOf(VIOLATIONS);
        VIOLATIONS.clear();
        return found;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        List<String> found = List.copyOf(VIOLATIONS);
        VIOLATIONS.clear();
        assertThat(found).as("blocking calls on event loops during " + context.getDisplayName()).isEmpty();
    }
}
