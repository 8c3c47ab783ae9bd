package io.cellgate.server.internal;

import io.netty.util.ResourceLeakDetector;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Counts the buffer leaks Netty's leak detector reports (its {@code LEAK:} log records, through
 * java.util.logging, Netty's logger when no other logging library is present), for the
 * {@code cellgate_buffer_leaks_total} metric. One counter per process.
 */
public final class LeakReports {
    private static final LongAdder LEAKS = new LongAdder();
    private static boolean installed;

    private LeakReports() {
    }

    public static synchronized void install() {
        if (installed) {
            return;
        }
        Logger.getLogger(ResourceLeakDetector.class.getName()).addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                String message = record.getMessage();
                if (message != null && message.contains("LEAK:")) {
                    LEAKS.increment();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        installed = true;
    }

    public static long count() {
        return LEAKS.sum();
    }
}
